// Bad input gets a clear error that names the file and the problem, and never touches the user's files.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { copyModel, engine, engineError, SHARED_FIXTURES, tempDir } from '../helpers';

const BERT = path.join(SHARED_FIXTURES, 'hf', 'bert-cls');
const text = 'The movie was absolutely wonderful.';

describe('bad input', () => {
  test('a missing path', async () => {
    const missing = path.join(tempDir('missing'), 'no-such-model');
    const e = await engineError(() => engine('predict', { model: { path: missing }, texts: [text] }));
    assert.equal(e.code, 'FILE_NOT_FOUND');
    assert.ok(e.message.includes(missing), e.message);
  });

  test('a folder without any .onnx file', async () => {
    const dir = tempDir('empty');
    const e = await engineError(() => engine('describe', { model: { path: dir } }));
    assert.equal(e.code, 'FILE_NOT_FOUND');
    assert.ok(e.message.includes(dir) && /No \.onnx file/.test(e.message), e.message);
  });

  test('a file that is not ONNX', async () => {
    const dir = copyModel(BERT, 'notonnx');
    fs.writeFileSync(path.join(dir, 'model.onnx'), 'This is a README, not a model.\n');
    const e = await engineError(() => engine('predict', { model: { path: dir }, texts: [text] }));
    assert.equal(e.code, 'NOT_ONNX');
    assert.equal(e.file, path.join(dir, 'model.onnx'));
    assert.match(e.message, /model\.onnx is not an ONNX model/);
  });

  test('a truncated .onnx', async () => {
    const dir = copyModel(BERT, 'truncated');
    const file = path.join(dir, 'model.onnx');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const e = await engineError(() => engine('predict', { model: { path: dir }, texts: [text] }));
    assert.equal(e.code, 'MODEL_INVALID');
    assert.equal(e.file, file);
    assert.match(e.message, /truncated or corrupt/);
  });

  test('a missing tokenizer.json', async () => {
    const dir = copyModel(BERT, 'notok');
    fs.rmSync(path.join(dir, 'tokenizer.json'));
    const e = await engineError(() => engine('predict', { model: { path: dir }, texts: [text] }));
    assert.equal(e.code, 'TOKENIZER_MISSING');
    assert.equal(e.file, path.join(dir, 'tokenizer.json'));
    assert.match(e.message, /no tokenizer\.json/);
  });

  test('an invalid tokenizer.json (not JSON, and JSON that is no tokenizer)', async () => {
    const dir = copyModel(BERT, 'badtok');
    const file = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(file, '{"model": {"type": "WordPiece", "vocab": {');
    let e = await engineError(() => engine('predict', { model: { path: dir }, texts: [text] }));
    assert.equal(e.code, 'TOKENIZER_INVALID');
    assert.equal(e.file, file);
    assert.match(e.message, /tokenizer\.json is not valid JSON/);

    fs.writeFileSync(file, '{"version": "1.0"}');
    e = await engineError(() => engine('predict', { model: { path: dir }, texts: [text] }));
    assert.equal(e.code, 'TOKENIZER_INVALID');
    assert.match(e.message, /no "model" section/);
  });

  test('a model with an input the engine cannot fill names that input', async () => {
    const dir = copyModel(BERT, 'unfillable');
    const file = path.join(dir, 'model.onnx');
    // Renaming attention_mask everywhere (same length, so the protobuf stays valid) gives a model
    // whose second input is unknown to the engine.
    const bytes = fs.readFileSync(file);
    const from = Buffer.from('attention_mask');
    const to = Buffer.from('unknown_inputs');
    for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) to.copy(bytes, at);
    fs.writeFileSync(file, bytes);
    const e = await engineError(() => engine('predict', { model: { path: dir }, texts: [text] }));
    assert.equal(e.code, 'INPUT_UNFILLABLE');
    assert.equal(e.file, file);
    assert.match(e.message, /"unknown_inputs"/);
  });

  test('empty text', async () => {
    for (const t of ['', '   \n\t ']) {
      const e = await engineError(() => engine('predict', { model: { path: BERT }, texts: [t] }));
      assert.equal(e.code, 'EMPTY_INPUT');
      assert.match(e.message, /empty/);
    }
  });

  test('a 1 MB text is truncated, and the result says so', async () => {
    const big = 'The movie was absolutely wonderful and the acting was great. '.repeat(17_000);
    assert.ok(big.length > 1_000_000);
    const result = await engine('predict', { model: { path: BERT }, texts: [big] });
    const p = result.predictions[0]!;
    assert.equal(p.kind, 'text-classification');
    if (p.kind !== 'text-classification') return;
    assert.equal(p.tokens.length, 128);
    assert.ok(p.truncation, 'truncation is stated');
    assert.equal(p.truncation.maxLength, 128);
    assert.ok(p.truncation.originalTokens > 100_000, `original tokens: ${p.truncation.originalTokens}`);
    assert.ok(p.truncation.keptChars > 100 && p.truncation.keptChars < 1000);
  });

  test("the user's model files are never modified", async () => {
    const before = fs.readdirSync(BERT).map((f) => [f, fs.statSync(path.join(BERT, f)).mtimeMs]);
    await engine('predict', { model: { path: BERT }, texts: [text] });
    const after = fs.readdirSync(BERT).map((f) => [f, fs.statSync(path.join(BERT, f)).mtimeMs]);
    assert.deepEqual(after, before);
  });
});
