// Tokenization through @huggingface/tokenizers: the exact ids of real exports, a character span in
// the user's text for every token, and truncation that is stated.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { TextTokenizer } from '../../src/engine/tokenize/textTokenizer';
import { readJson, SHARED_FIXTURES, TEST_FIXTURES } from '../helpers';

const hf = (name: string): TextTokenizer =>
  new TextTokenizer(path.join(SHARED_FIXTURES, 'hf', name, 'tokenizer.json'), path.join(SHARED_FIXTURES, 'hf', name, 'tokenizer_config.json'));
const captum = (name: string): TextTokenizer =>
  new TextTokenizer(path.join(SHARED_FIXTURES, 'captum', 'models', name, 'tokenizer.json'), path.join(SHARED_FIXTURES, 'captum', 'models', name, 'tokenizer_config.json'));

const fold = (s: string): string => s.normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase();

/** Every text token has a span; spans are in order, do not overlap, and spell the token. */
function checkSpans(tok: TextTokenizer, text: string, byteLevel: boolean): void {
  const enc = tok.encode(text, 100_000);
  let last = 0;
  for (const t of enc.tokens) {
    if (t.start === -1) {
      assert.ok(t.special, `only added special tokens lack a span: ${t.token}`);
      continue;
    }
    assert.ok(t.start >= last - 2 && t.end >= t.start, `span of ${JSON.stringify(t.token)} [${t.start}, ${t.end}) follows the previous one (${last})`);
    assert.ok(t.end > t.start, `token ${JSON.stringify(t.token)} covers some text`);
    const piece = text.slice(t.start, t.end);
    if (!byteLevel && t.token !== '[UNK]') {
      assert.equal(fold(piece), fold(t.token.replace(/^##/, '')), `span of ${t.token}`);
    }
    last = t.end;
  }
}

describe('tokenizers of real exports', () => {
  for (const name of ['bert-cls', 'gpt2-lm']) {
    test(`hf/${name}: reference input_ids reproduced exactly`, () => {
      const tok = hf(name);
      const refs = readJson<{ references: { text: string; input_ids: number[] }[] }>(path.join(SHARED_FIXTURES, 'hf', name, 'reference.json')).references;
      for (const r of refs) assert.deepEqual(tok.encode(r.text, 100_000).ids, r.input_ids, r.text);
    });
  }

  for (const name of ['classifier', 'lm']) {
    test(`captum/${name}: reference ids reproduced exactly`, () => {
      const tok = captum(name);
      const dir = path.join(SHARED_FIXTURES, 'captum', name);
      for (const f of fs.readdirSync(dir)) {
        const r = readJson<{ text: string; ids: number[] }>(path.join(dir, f));
        assert.deepEqual(tok.encode(r.text, 100_000).ids, r.ids, f);
      }
    });
  }
});

describe('character spans', () => {
  const texts = [
    'The movie was absolutely wonderful and the acting was great.',
    'Ünïcödé naïve café — déjà vu! 😀 x2',
    'def add(a, b): return a + b  # a tiny function',
    '  leading spaces,\ttabs\nand newlines\r\n',
    'Refunds are not possible after thirty days, said the manager',
  ];
  test('WordPiece with accent stripping (bert-cls)', () => {
    for (const t of texts) checkSpans(hf('bert-cls'), t, false);
  });
  test('byte-level BPE (gpt2-lm): spans tile the text', () => {
    const tok = hf('gpt2-lm');
    for (const t of texts) {
      checkSpans(tok, t, true);
      const enc = tok.encode(t, 100_000);
      // Every non-space character is covered by some token.
      const covered = new Array<boolean>(t.length).fill(false);
      for (const tk of enc.tokens) for (let i = tk.start; i < tk.end; i++) covered[i] = true;
      for (let i = 0; i < t.length; i++) {
        if (!/\s/.test(t[i]!)) assert.ok(covered[i], `char ${i} ${JSON.stringify(t[i])} of ${JSON.stringify(t)} is covered`);
      }
    }
  });
  test('the emoji split over several byte tokens maps each piece to the emoji', () => {
    const text = 'hi 😀';
    const enc = hf('gpt2-lm').encode(text, 100);
    const pieces = enc.tokens.filter((t) => t.start === 3);
    assert.ok(pieces.length >= 1);
    for (const p of pieces) assert.equal(text.slice(p.start, p.end), '😀');
  });
  test('unknown words map to their whole word', () => {
    const tok = hf('bert-cls');
    const text = 'hello ☃☃☃ world';
    const enc = tok.encode(text, 100);
    const unk = enc.tokens.find((t) => t.token === '[UNK]');
    assert.ok(unk, 'the snowmen are unknown to the vocabulary');
    assert.equal(text.slice(unk.start, unk.end).length > 0, true);
    assert.ok(text.slice(unk.start, unk.end).includes('☃'));
  });
  test('SentencePiece-style BPE (Prepend/Replace normalizer, byte fallback)', () => {
    const dir = path.join(TEST_FIXTURES, 'tokenizers', 'sentencepiece-bpe');
    const tok = new TextTokenizer(path.join(dir, 'tokenizer.json'), path.join(dir, 'tokenizer_config.json'));
    const text = 'the cat sat ☃ café 😀';
    const enc = tok.encode(text, 100);
    const spelled = enc.tokens.filter((t) => !t.special).map((t) => [t.token, text.slice(t.start, t.end)]);
    assert.deepEqual(spelled, [
      ['▁the', 'the'],
      ['▁cat', 'cat'],
      ['▁sat', 'sat'],
      ['▁', ''],
      ['<0xE2>', '☃'],
      ['<0x98>', '☃'],
      ['<0x83>', '☃'],
      ['▁café', 'café'],
      ['▁', ''],
      ['<0xF0>', '😀'],
      ['<0x9F>', '😀'],
      ['<0x98>', '😀'],
      ['<0x80>', '😀'],
    ]);
    assert.deepEqual(enc.tokens[0], { id: 1, token: '<s>', start: -1, end: -1, special: true });
  });
  test('captum spam example: spans spell the words', () => {
    const r = readJson<{ text: string }>(path.join(SHARED_FIXTURES, 'captum', 'classifier', 'spam_short_0.json'));
    checkSpans(captum('classifier'), r.text, false);
  });
});

describe('truncation', () => {
  test('is stated, keeps the closing special token, and says how much text was used', () => {
    const tok = hf('bert-cls');
    const text = 'the acting was great '.repeat(100);
    const enc = tok.encode(text, 32);
    assert.equal(enc.ids.length, 32);
    assert.equal(enc.tokens[0]!.token, '[CLS]');
    assert.equal(enc.tokens[31]!.token, '[SEP]');
    assert.ok(enc.truncation);
    assert.equal(enc.truncation.keptTokens, 32);
    assert.ok(enc.truncation.originalTokens > 300);
    assert.ok(enc.truncation.keptChars > 0 && enc.truncation.keptChars < text.length);
    assert.equal(tok.encode('short text', 32).truncation, null);
  });
});
