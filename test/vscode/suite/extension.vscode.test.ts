// Integration tests that run inside a real VS Code extension host (code-server here and in CI,
// VS Code desktop via runTestElectron.mjs elsewhere). They run against whatever copy of the extension
// the host loaded: the repo (extensionDevelopmentPath) or the installed .vsix (runTest.mjs --vsix),
// so paths to shipped files are always taken from `ext.extensionPath`.
//
// This file runs first (see index.ts): the first suite checks the state right after activation.
// Add tests in the same style: one `suite` per feature, `getLoupe()` for the activated extension.
import * as assert from 'assert';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { PredictResult, ScoredLabel, TextClassification } from '../../../src/protocol/workerProtocol';
import { EXTENSION_ID } from './helpers';

/** What activate() returns (the parts the tests use). */
export interface LoupeApi {
  /** True once the engine worker (the process that loads onnxruntime-node) has been started. */
  engineStarted(): boolean;
}

export const SPAM_TEXT = 'Congratulations, you won a free prize! Click here now';
export const HAM_TEXT =
  'Hi Tom, thanks for the patch. I applied it to the CVS tree and the build works again on my Linux box; ' +
  'see you at the meeting on Thursday.';

/** The extension, activated; its API. */
export async function getLoupe(): Promise<{ ext: vscode.Extension<LoupeApi>; api: LoupeApi }> {
  const ext = vscode.extensions.getExtension<LoupeApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this VS Code`);
  const api = await ext.activate();
  return { ext, api };
}

/** The demo text classifier that the extension ships in models/. */
export function bundledClassifier(ext: vscode.Extension<unknown>): string {
  return path.join(ext.extensionPath, 'models', 'spam-classifier');
}

/** `loupe.predict` returns the worker's predict result; accept the bare classification too. */
export function asClassification(result: unknown): TextClassification {
  assert.ok(result && typeof result === 'object', `loupe.predict returned ${JSON.stringify(result)}`);
  const r = result as Partial<PredictResult> & Partial<TextClassification>;
  const cls = (r.kind === 'text-classification' ? r : r.predictions?.[0]) as TextClassification | undefined;
  assert.ok(cls, `no prediction in ${JSON.stringify(result).slice(0, 500)}`);
  assert.strictEqual(cls.kind, 'text-classification');
  return cls;
}

export async function predict(text: string, model: string): Promise<TextClassification> {
  return asClassification(await vscode.commands.executeCommand('loupe.predict', { text, model }));
}

function label(cls: TextClassification, name: string): ScoredLabel {
  const l = cls.labels.find((x) => x.label === name);
  assert.ok(l, `label '${name}' not in ${JSON.stringify(cls.labels.map((x) => x.label))}`);
  return l;
}

function assertWellFormed(cls: TextClassification): void {
  label(cls, 'spam');
  label(cls, 'ham');
  const sum = cls.labels.reduce((s, l) => s + l.probability, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}, not 1`);
  for (const l of cls.labels) assert.ok(l.probability >= 0 && l.probability <= 1, `${l.label}: ${l.probability}`);
  const best = cls.labels.reduce((a, b) => (b.probability > a.probability ? b : a));
  assert.strictEqual(cls.predicted.label, best.label, 'predicted label is not the most probable one');
}

function onnxruntimeModulesLoaded(): string[] {
  return Object.keys(require.cache).filter((k) => /[\\/]onnxruntime-(node|common)[\\/]/.test(k));
}

suite('Activation', () => {
  test('the extension is installed and activates', async () => {
    const ext = vscode.extensions.getExtension<LoupeApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} not found`);
    const api = await ext.activate();
    assert.ok(ext.isActive, 'extension is not active after activate()');
    assert.ok(api && typeof api.engineStarted === 'function', 'activate() did not return the API (engineStarted)');
  });

  test('the extension was loaded from the copy under test (dev folder or installed .vsix)', async () => {
    const { ext } = await getLoupe();
    const root = process.env.LOUPE_TEST_EXTENSION_ROOT; // set by test/vscode/runTest.mjs
    if (!root) return; // another runner (runTestElectron.mjs): nothing to compare with
    const rel = path.relative(path.resolve(root), path.resolve(ext.extensionPath));
    assert.ok(!rel.startsWith('..') && !path.isAbsolute(rel), `loaded from ${ext.extensionPath}, expected under ${root}`);
  });

  test('activation does not load onnxruntime-node nor start the engine', async () => {
    const { api } = await getLoupe();
    assert.strictEqual(api.engineStarted(), false, 'the engine was started by activation alone');
    assert.deepStrictEqual(onnxruntimeModulesLoaded(), [], 'onnxruntime was loaded into the extension host');
  });

  test('every contributed command is registered', async () => {
    const { ext } = await getLoupe();
    const contributed: { command: string }[] = ext.packageJSON?.contributes?.commands ?? [];
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((c) => !registered.has(c));
    assert.deepStrictEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
    assert.ok(registered.has('loupe.predict'), 'loupe.predict is not registered');
  });
});

suite('loupe.predict with the bundled classifier', () => {
  let model: string;
  suiteSetup(async () => {
    const { ext } = await getLoupe();
    model = bundledClassifier(ext);
  });

  test('classifies an obvious spam text as spam', async () => {
    const cls = await predict(SPAM_TEXT, model);
    assertWellFormed(cls);
    assert.strictEqual(cls.predicted.label, 'spam', JSON.stringify(cls.labels));
    assert.ok(cls.tokens.length > 0, 'no tokens reported');
  });

  test('classifies an ordinary text as ham', async () => {
    const cls = await predict(HAM_TEXT, model);
    assertWellFormed(cls);
    assert.strictEqual(cls.predicted.label, 'ham', JSON.stringify(cls.labels));
  });

  test('the engine has started (in a worker process, not the extension host)', async () => {
    const { api } = await getLoupe();
    assert.strictEqual(api.engineStarted(), true);
    assert.deepStrictEqual(onnxruntimeModulesLoaded(), [], 'onnxruntime was loaded into the extension host');
  });

  test('a bad model path rejects with an error naming the path, and the host stays alive', async () => {
    const bad = path.join(os.tmpdir(), `loupe-no-such-model-${process.pid}-${Date.now()}`);
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('loupe.predict', { text: SPAM_TEXT, model: bad })),
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        assert.ok(message.includes(bad), `error message does not name the path: ${message}`);
        return true;
      },
    );
    // The extension host and the worker still answer.
    const cls = await predict(SPAM_TEXT, model);
    assert.strictEqual(cls.predicted.label, 'spam');
  });
});
