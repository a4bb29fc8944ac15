// The text tokenizer of a Hugging Face export folder, through @huggingface/tokenizers, with what the
// library leaves out: truncation to the model's maximum length (stated, never silent) and a character
// span in the user's text for every token.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { LoupeError } from '../../protocol/errors';
import type { TokenSpan, Truncation } from '../../protocol/workerProtocol';
import { alignTokens, AlignOptions } from './offsets';

export interface EncodedText {
  ids: number[];
  tokens: TokenSpan[];
  truncation: Truncation | null;
}

interface TokenizerJson {
  normalizer?: NormalizerJson | null;
  model?: { type?: string; unk_token?: string | null; continuing_subword_prefix?: string | null };
  pre_tokenizer?: { type?: string; pretokenizers?: { type?: string; replacement?: string }[]; replacement?: string } | null;
  decoder?: { type?: string; decoders?: { type?: string }[] } | null;
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

const SUPPORTED_MODELS = ['WordPiece', 'BPE', 'Unigram'];

function readJson(file: string, code: 'TOKENIZER_INVALID' | 'CONFIG_INVALID'): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LoupeError(code, `Cannot read ${path.basename(file)}: ${(e as Error).message}`, { file });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new LoupeError(code, `${path.basename(file)} is not valid JSON (${(e as Error).message}).`, { file });
  }
}

function typesIn(node: { type?: string; pretokenizers?: { type?: string }[]; decoders?: { type?: string }[] } | null | undefined): string[] {
  if (!node) return [];
  return [node.type ?? '', ...(node.pretokenizers ?? []).map((p) => p.type ?? ''), ...(node.decoders ?? []).map((d) => d.type ?? '')];
}

export class TextTokenizer {
  private readonly tk: Tokenizer;
  private readonly align: AlignOptions;
  private readonly specialIds: Set<number>;
  /** Ids the post-processor puts before and after the text (e.g. [CLS] … [SEP]). */
  private readonly prefixIds: number[];
  private readonly suffixIds: number[];

  constructor(readonly tokenizerFile: string, configFile: string | null) {
    const json = readJson(tokenizerFile, 'TOKENIZER_INVALID');
    if (typeof json !== 'object' || json === null || typeof (json as TokenizerJson).model !== 'object') {
      throw new LoupeError('TOKENIZER_INVALID', `${path.basename(tokenizerFile)} has no "model" section; it is not a Hugging Face tokenizer.json.`, {
        file: tokenizerFile,
      });
    }
    const tj = json as TokenizerJson;
    const modelType = tj.model?.type ?? '(none)';
    if (!SUPPORTED_MODELS.includes(modelType)) {
      throw new LoupeError(
        'TOKENIZER_INVALID',
        `${path.basename(tokenizerFile)} uses the ${modelType} tokenizer model, which Loupe cannot run yet (supported: ${SUPPORTED_MODELS.join(', ')}).`,
        { file: tokenizerFile },
      );
    }
    const config = configFile && fs.existsSync(configFile) ? readJson(configFile, 'TOKENIZER_INVALID') : {};
    try {
      this.tk = new Tokenizer(json as object, (config ?? {}) as object);
    } catch (e) {
      throw new LoupeError('TOKENIZER_INVALID', `${path.basename(tokenizerFile)} could not be loaded: ${(e as Error).message}`, {
        file: tokenizerFile,
      });
    }

    const byteLevel = [...typesIn(tj.pre_tokenizer), ...typesIn(tj.decoder)].includes('ByteLevel');
    const metaspace = [...typesIn(tj.pre_tokenizer), ...typesIn(tj.decoder)].includes('Metaspace') || JSON.stringify(tj.normalizer ?? null).includes('\u2581') ? '\u2581' : null;
    // Alignment normalizes one character at a time, so steps that act on the whole text (Prepend,
    // Strip) are left out of the copy of the normalizer used for it.
    const perChar = tj.normalizer ? stripWholeTextSteps(tj.normalizer) : null;
    const normalizer = perChar ? new Tokenizer({ ...(json as object), normalizer: perChar }, (config ?? {}) as object).normalizer : null;
    this.align = {
      space: byteLevel ? 'bytes' : 'chars',
      normalizeChar: normalizer ? memoize((ch) => normalizer.normalize(ch)) : (ch) => ch,
      continuingPrefix: modelType === 'WordPiece' ? (tj.model?.continuing_subword_prefix ?? '##') : null,
      unkToken: tj.model?.unk_token ?? null,
      metaspace,
    };
    this.specialIds = new Set((tj.added_tokens ?? []).filter((t) => t.special).map((t) => t.id));

    // Learn the post-processor's template once, so that long texts are encoded only once.
    const probe = 'hello world';
    const full = this.tk.encode(probe).ids;
    const content = this.tk.encode(probe, { add_special_tokens: false }).ids;
    const at = indexOfRun(full, content);
    if (at < 0) {
      throw new LoupeError('TOKENIZER_INVALID', `${path.basename(tokenizerFile)}: its post-processor does not keep the text's tokens in order.`, {
        file: tokenizerFile,
      });
    }
    this.prefixIds = full.slice(0, at);
    this.suffixIds = full.slice(at + content.length);
  }

  idToToken(id: number): string {
    return this.tk.id_to_token(id) ?? `<${id}>`;
  }

  tokenToId(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }

  /** The id right-padding uses: the vocabulary's pad token, else 0 (the attention mask hides it). */
  get padId(): number {
    return this.tk.token_to_id('[PAD]') ?? this.tk.token_to_id('<pad>') ?? 0;
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  get vocabSize(): number {
    return this.tk.get_vocab(true).size;
  }

  /** Decodes ids to text as the tokenizer's decoder does (for generated continuations). */
  decode(ids: number[]): string {
    return this.tk.decode(ids, { skip_special_tokens: false });
  }

  /**
   * Encodes `text` with the post-processor's special tokens, keeping at most `maxLength` tokens.
   * Truncation drops text tokens from the end and keeps the closing special tokens.
   */
  encode(text: string, maxLength: number): EncodedText {
    const content = this.tk.encode(text, { add_special_tokens: false });
    const room = Math.max(0, maxLength - this.prefixIds.length - this.suffixIds.length);
    const kept = Math.min(content.ids.length, room);
    // Only the kept tokens are aligned: the rest of a long text is counted, not mapped.
    const spans = alignTokens(text, content.tokens.slice(0, kept), this.align);
    const special = (id: number): TokenSpan => ({ id, token: this.idToToken(id), start: -1, end: -1, special: true });
    const tokens: TokenSpan[] = [
      ...this.prefixIds.map(special),
      ...content.ids.slice(0, kept).map((id, i) => ({
        id,
        token: content.tokens[i]!,
        start: spans[i]![0],
        end: spans[i]![1],
        special: this.specialIds.has(id),
      })),
      ...this.suffixIds.map(special),
    ];
    const originalTokens = content.ids.length + this.prefixIds.length + this.suffixIds.length;
    const truncation: Truncation | null =
      kept < content.ids.length
        ? { originalTokens, keptTokens: tokens.length, maxLength, keptChars: kept > 0 ? spans[kept - 1]![1] : 0 }
        : null;
    return { ids: tokens.map((t) => t.id), tokens, truncation };
  }
}

type NormalizerJson = { type?: string; normalizers?: NormalizerJson[] };
const WHOLE_TEXT_STEPS = ['Prepend', 'Strip'];

function stripWholeTextSteps(n: NormalizerJson): NormalizerJson | null {
  if (WHOLE_TEXT_STEPS.includes(n.type ?? '')) return null;
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) {
    return { ...n, normalizers: n.normalizers.map(stripWholeTextSteps).filter((x): x is NormalizerJson => x !== null) };
  }
  return n;
}

/** Per-character normalization repeats the same few characters; remember them (bounded). */
function memoize(fn: (ch: string) => string): (ch: string) => string {
  const cache = new Map<string, string>();
  return (ch) => {
    let v = cache.get(ch);
    if (v === undefined) {
      v = fn(ch);
      if (cache.size < 65_536) cache.set(ch, v);
    }
    return v;
  };
}

function indexOfRun(haystack: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
