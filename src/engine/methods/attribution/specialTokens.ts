// The token ids that stand for an "absent" token: [PAD], [MASK] and [UNK] as the tokenizer names
// them (tokenizer_config.json's pad_token / mask_token / unk_token, else the usual spellings), and
// the default baseline when the request does not choose one.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoupeError } from '../../../protocol/errors';
import type { TextTokenizer } from '../../tokenize/textTokenizer';

export interface BaselineTokens {
  pad: number | null;
  mask: number | null;
  unk: number | null;
  /** What a text with every token deleted is run as: the BOS token, else the EOS token (GPT-2's <|endoftext|>). */
  empty: number | null;
}

const SPELLINGS: Record<'pad' | 'mask' | 'unk' | 'bos' | 'eos', string[]> = {
  pad: ['[PAD]', '<pad>', '<|pad|>', '<|padding|>'],
  mask: ['[MASK]', '<mask>', '<|mask|>'],
  unk: ['[UNK]', '<unk>', '<|unk|>'],
  bos: ['[BOS]', '<s>', '<|begin_of_text|>', '<|startoftext|>', '<|endoftext|>'],
  eos: ['[EOS]', '</s>', '<|end_of_text|>', '<|endoftext|>'],
};

function configured(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return null;
}

const cache = new WeakMap<TextTokenizer, BaselineTokens>();

export function baselineTokens(tokenizer: TextTokenizer): BaselineTokens {
  const hit = cache.get(tokenizer);
  if (hit) return hit;
  let config: Record<string, unknown> = {};
  const file = path.join(path.dirname(tokenizer.tokenizerFile), 'tokenizer_config.json');
  try {
    if (fs.existsSync(file)) config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    config = {};
  }
  const find = (kind: keyof typeof SPELLINGS): number | null => {
    const named = configured(config[`${kind}_token`]);
    for (const t of named ? [named] : SPELLINGS[kind]) {
      const id = tokenizer.tokenToId(t);
      if (id !== undefined) return id;
    }
    return null;
  };
  const found = { pad: find('pad'), mask: find('mask'), unk: find('unk'), empty: find('bos') ?? find('eos') };
  // GPT-2-style vocabularies name <|endoftext|> as their unknown token too; it is no "unknown word".
  const eos = configured(config.eos_token);
  if (eos !== null && found.unk !== null && found.unk === tokenizer.tokenToId(eos)) found.unk = null;
  cache.set(tokenizer, found);
  return found;
}

export type TokenBaseline = 'pad' | 'mask' | 'unk' | 'delete';

/**
 * The default "absent token" for perturbation methods: [PAD] when the model has a pad token (what
 * Captum's text tutorials and the reference attributions use), else deletion (decoder-only models
 * without a pad token, such as GPT-2, have no neutral token to put in its place).
 */
export function defaultTokenBaseline(tokens: BaselineTokens): TokenBaseline {
  return tokens.pad !== null ? 'pad' : 'delete';
}

/** The id that replaces an absent token, or null for deletion. */
export function replacementId(baseline: TokenBaseline, tokens: BaselineTokens, file: string): number | null {
  if (baseline === 'delete') return null;
  const id = tokens[baseline];
  if (id === null) {
    const spelled = { pad: '[PAD]/<pad>', mask: '[MASK]/<mask>', unk: '[UNK]/<unk>' }[baseline];
    throw new LoupeError(
      'BAD_REQUEST',
      `The tokenizer of ${path.basename(path.dirname(file))} has no ${baseline} token (${spelled}); choose another baseline (${(['pad', 'mask', 'unk'] as const).filter((b) => tokens[b] !== null).concat(['delete'] as never[]).join(', ')}).`,
      { file },
    );
  }
  return id;
}
