// Maps tokens back to character spans in the user's text. The tokenizer library returns no offsets,
// so we align each token's surface form against the text: in normalized-character space for
// WordPiece/SentencePiece-style vocabularies, and in UTF-8 byte space for byte-level BPE.

export type Span = [start: number, end: number];

export interface AlignOptions {
  /** 'bytes' for byte-level BPE (GPT-2 style); 'chars' for everything else. */
  space: 'bytes' | 'chars';
  /** Normalizes one code point the way the tokenizer's normalizer does (lower-casing, accent stripping). */
  normalizeChar: (ch: string) => string;
  /** WordPiece continuation prefix ("##"), stripped before matching. */
  continuingPrefix: string | null;
  /** The unknown token, whose surface is unknowable; it takes the rest of its word. */
  unkToken: string | null;
  /** SentencePiece's word-boundary marker ("▁"), read as a space. */
  metaspace: string | null;
}

const SEARCH_WINDOW = 256;
const METASPACE = '\u2581';
const isSpace = (ch: string | undefined): boolean => ch !== undefined && (ch === METASPACE || /\s/u.test(ch));
/** SentencePiece's byte-fallback tokens, <0xE2>, stand for one UTF-8 byte of a character. */
const BYTE_TOKEN = /^<0x[0-9A-Fa-f]{2}>$/;
const utf8Length = (cp: number): number => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

export function alignTokens(text: string, tokens: readonly string[], options: AlignOptions): Span[] {
  return options.space === 'bytes' ? alignBytes(prefixForBytes(text, tokens), tokens) : alignChars(text, tokens, options);
}

/** The part of the text the byte-level tokens can reach: one byte per token character, plus slack. */
function prefixForBytes(text: string, tokens: readonly string[]): string {
  let need = SEARCH_WINDOW;
  for (const t of tokens) need += t.length;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    if (bytes >= need) return text.slice(0, i);
    const cp = text.codePointAt(i)!;
    bytes += utf8Length(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return text;
}

// ---- character space ------------------------------------------------------------------------------

function alignChars(text: string, tokens: readonly string[], o: AlignOptions): Span[] {
  // The normalized text, with the original span of the code point each normalized unit came from.
  // It is built only as far as the tokens reach: a long text truncated to a few hundred tokens is
  // normalized only up to the cut.
  let normalized = '';
  let consumed = 0;
  const origStart: number[] = [];
  const origEnd: number[] = [];
  const extend = (upTo: number): void => {
    while (normalized.length < upTo && consumed < text.length) {
      const cp = text.codePointAt(consumed)!;
      const ch = String.fromCodePoint(cp);
      const n = o.normalizeChar(ch);
      for (let k = 0; k < n.length; k++) {
        origStart.push(consumed);
        origEnd.push(consumed + ch.length);
      }
      normalized += n;
      consumed += ch.length;
    }
  };
  const toOrig = (a: number, b: number): Span => {
    if (b <= a) {
      const at = a < origStart.length ? origStart[a]! : consumed;
      return [at, at];
    }
    return [origStart[a]!, origEnd[b - 1]!];
  };

  const spans: Span[] = [];
  const pendingUnk: number[] = [];
  let cursor = 0;
  const skipSpace = (p: number): number => {
    for (;;) {
      extend(p + 1);
      if (p < normalized.length && isSpace(normalized[p])) p++;
      else return p;
    }
  };
  const wordEnd = (p: number): number => {
    let q = p;
    for (;;) {
      extend(q + 1);
      if (q < normalized.length && !isSpace(normalized[q])) q++;
      else break;
    }
    return Math.max(q, Math.min(p + 1, normalized.length));
  };
  const closeUnks = (limit: number): void => {
    for (const idx of pendingUnk) {
      const [s] = spans[idx]!;
      spans[idx] = [s, Math.max(s, Math.min(limit, wordEnd(s)))];
    }
    pendingUnk.length = 0;
  };

  let bytesLeft = 0; // of the character that byte-fallback tokens are spelling
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (BYTE_TOKEN.test(token)) {
      // All byte tokens of one character map to that character.
      const at = bytesLeft > 0 ? cursor : skipSpace(cursor);
      extend(at + 2);
      const cp = normalized.codePointAt(at) ?? 0;
      const width = cp > 0xffff ? 2 : 1;
      if (bytesLeft === 0) bytesLeft = utf8Length(cp);
      spans.push([at, Math.min(at + width, normalized.length)]);
      bytesLeft--;
      closeUnks(at);
      cursor = bytesLeft > 0 ? at : at + width;
      continue;
    }
    bytesLeft = 0;
    if (o.unkToken !== null && token === o.unkToken) {
      const start = skipSpace(cursor);
      spans.push([start, start]);
      pendingUnk.push(t);
      continue;
    }
    let surface = token;
    if (o.continuingPrefix && surface.startsWith(o.continuingPrefix) && surface.length > o.continuingPrefix.length) {
      surface = surface.slice(o.continuingPrefix.length);
    }
    if (o.metaspace) surface = surface.split(o.metaspace).join(' ');
    surface = surface.trim();
    const from = skipSpace(cursor);
    if (surface.length === 0) {
      spans.push([from, from]);
      continue;
    }
    extend(from + surface.length);
    let at = normalized.startsWith(surface, from) ? from : -1;
    if (at < 0) {
      extend(from + SEARCH_WINDOW + surface.length);
      // Characters the normalizer dropped (control characters) or unexpected forms: look a little ahead.
      const found = normalized.indexOf(surface, from);
      if (found >= 0 && found - from <= SEARCH_WINDOW) at = found;
    }
    if (at < 0) {
      spans.push([from, from]);
      continue;
    }
    closeUnks(at);
    spans.push([at, at + surface.length]);
    cursor = at + surface.length;
  }
  if (pendingUnk.length > 0) closeUnks(wordEnd(spans[pendingUnk[0]!]![0]));
  return spans.map(([a, b]) => toOrig(a, b));
}

// ---- byte space (byte-level BPE) ---------------------------------------------------------------------

/** GPT-2's reversible byte ↔ printable-character table, inverted: character → byte. */
function byteDecoder(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const map = new Map<string, number>();
  bs.forEach((b, i) => map.set(String.fromCodePoint(cs[i]!), b));
  return map;
}
let decoderTable: Map<string, number> | null = null;

function alignBytes(text: string, tokens: readonly string[]): Span[] {
  decoderTable ??= byteDecoder();
  const table = decoderTable;
  const bytes = Buffer.from(text, 'utf8');
  // For each byte: the UTF-16 index of the character it belongs to, and that character's end.
  const charStart = new Int32Array(bytes.length + 1);
  const charEnd = new Int32Array(bytes.length + 1);
  let b = 0;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < width; k++) {
      charStart[b + k] = i;
      charEnd[b + k] = i + units;
    }
    b += width;
    i += units;
  }
  charStart[bytes.length] = text.length;
  charEnd[bytes.length] = text.length;

  const spans: Span[] = [];
  let cursor = 0;
  for (const token of tokens) {
    const tb: number[] = [];
    let decodable = true;
    for (const ch of token) {
      const v = table.get(ch);
      if (v === undefined) {
        decodable = false;
        break;
      }
      tb.push(v);
    }
    let at = -1;
    if (decodable && tb.length > 0) {
      const needle = Buffer.from(tb);
      if (bytes.subarray(cursor, cursor + needle.length).equals(needle)) at = cursor;
      else {
        const found = bytes.indexOf(needle, cursor);
        if (found >= 0 && found - cursor <= SEARCH_WINDOW) at = found;
      }
      if (at >= 0) {
        let s = at;
        const e = at + needle.length;
        // Leading spaces belong to the token in byte-level BPE; highlighting excludes them.
        while (s < e - 1 && (bytes[s] === 0x20 || bytes[s] === 0x0a || bytes[s] === 0x09 || bytes[s] === 0x0d)) s++;
        spans.push([charStart[s]!, e > s ? charEnd[e - 1]! : charStart[s]!]);
        cursor = e;
        continue;
      }
    }
    const here = charStart[Math.min(cursor, bytes.length)]!;
    spans.push([here, here]);
  }
  return spans;
}
