// Word-level scores: sub-tokens are merged into words by their character spans. A token joins the
// word before it when its span starts exactly where the previous token's ends and the text on both
// sides of the junction is a letter, digit or underscore ("ben" "##ja" "##min" → "benjamin";
// "way" "." stay apart). A word's score is the sum of its tokens' scores (additive methods keep their
// completeness). Tokens without a span (special or generated tokens) are not part of any word.

import type { TokenSpan } from '../../../protocol/workerProtocol';
import type { WordScore } from './types';

const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;

export function aggregateWords(text: string, tokens: TokenSpan[], scores: number[]): WordScore[] {
  const words: WordScore[] = [];
  let current: WordScore | null = null;
  tokens.forEach((t, i) => {
    if (t.start < 0 || t.end <= t.start) {
      current = null;
      return;
    }
    const joins = current !== null && current.end === t.start && WORD_CHAR.test(text[t.start - 1] ?? '') && WORD_CHAR.test(text[t.start] ?? '');
    if (joins && current) {
      current.end = t.end;
      current.tokens.push(i);
      current.score += scores[i]!;
    } else {
      current = { start: t.start, end: t.end, text: '', tokens: [i], score: scores[i]! };
      words.push(current);
    }
  });
  for (const w of words) {
    // Byte-level BPE tokens carry the space before them; a word's span starts at its first letter.
    while (w.start < w.end && /\s/u.test(text[w.start]!)) w.start++;
    w.text = text.slice(w.start, w.end);
  }
  return words;
}
