#!/usr/bin/env node
// The standard @vscode/test-electron runner for contributors whose machines can download VS Code
// (it fetches a VS Code build from Microsoft into .vscode-test/). Same suite, same workspace fixture
// as test/vscode/runTest.mjs (which uses code-server instead, and is what CI runs).
//
// Usage (after `npm run build && npm run compile-tests`, or `npm run package` for --vsix):
//   node test/vscode/runTestElectron.mjs [--vsix file.vsix] [--version stable|insiders|1.105.0] [--grep re] [--bail]
// On Linux without a display, run it under `xvfb-run -a`.
//
// --vsix: the .vsix is installed into a fresh extensions folder with the VS Code CLI, and an EMPTY
// folder is passed as extensionDevelopmentPath (VS Code runs extensionTestsPath only when some
// development path is set), so the tests run against the installed extension.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { downloadAndUnzipVSCode, resolveCliArgsFromVSCodeExecutablePath, runTests } from '@vscode/test-electron';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: opts } = parseArgs({
  options: {
    vsix: { type: 'string' },
    version: { type: 'string', default: process.env.VSCODE_TEST_VERSION ?? 'stable' },
    grep: { type: 'string' },
    bail: { type: 'boolean', default: false },
  },
});

const extensionTestsPath = path.join(repo, 'out', 'test', 'vscode', 'suite', 'index');
if (!fs.existsSync(`${extensionTestsPath}.js`)) {
  console.error(`tests not compiled: ${extensionTestsPath}.js (npm run compile-tests)`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-electron-'));
const workspace = path.join(tmp, 'workspace');
fs.cpSync(path.join(repo, 'test', 'vscode', 'workspace'), workspace, { recursive: true });
const userDataDir = path.join(tmp, 'user-data');
const extensionsDir = path.join(tmp, 'extensions');
fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
fs.writeFileSync(
  path.join(userDataDir, 'User', 'settings.json'),
  JSON.stringify({
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'chat.disableAIFeatures': true,
    'git.enabled': false,
  }),
);

let code = 1;
try {
  const vscodeExecutablePath = await downloadAndUnzipVSCode(opts.version);
  let extensionDevelopmentPath = repo;
  if (opts.vsix) {
    const [cli, ...cliArgs] = resolveCliArgsFromVSCodeExecutablePath(vscodeExecutablePath);
    const r = spawnSync(cli, [...cliArgs, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', path.resolve(opts.vsix)], {
      encoding: 'utf8',
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    if (r.status !== 0) throw new Error(`installing ${opts.vsix} failed (exit ${r.status})`);
    extensionDevelopmentPath = path.join(tmp, 'no-dev-extension');
    fs.mkdirSync(extensionDevelopmentPath);
  }
  code = await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath,
    extensionTestsPath,
    extensionTestsEnv: {
      LOUPE_TEST_GREP: opts.grep,
      LOUPE_TEST_BAIL: opts.bail ? '1' : undefined,
      LOUPE_TEST_EXTENSION_ROOT: opts.vsix ? extensionsDir : repo,
    },
    launchArgs: [
      workspace,
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--disable-workspace-trust',
      '--skip-welcome',
      '--skip-release-notes',
      '--disable-gpu',
    ],
  });
} catch (err) {
  console.error(`runTestElectron: ${err?.message ?? err}`);
  code = typeof err?.code === 'number' && err.code !== 0 ? err.code : 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
}
process.exit(code);
