#!/usr/bin/env node
// Runs the extension's integration tests inside a REAL VS Code: code-server's workbench + remote
// extension host, driven by headless Debian chromium through playwright-core. See real-vscode.md in
// the shared docs for the recipe and tools/vscode/ensure-code-server.sh for the install (run it first).
//
// Two phases, one profile (the same installed extension, user data and workspace copy):
//   1. extension-host suite: a mocha suite in the @vscode/test-electron shape (a module exporting
//      `run()`, test/vscode/suite) runs INSIDE the extension host; code-server runs with the
//      smoke-test driver, without which the test payload is ignored.
//   2. UI tests (test/vscode/ui/*.ui.mjs, mocha in this process): the extension used as a user
//      would, through the workbench: explorer context menu, command palette, the webview panel,
//      keyboard, themes, notifications, settings. A fresh code-server WITHOUT the smoke-test driver,
//      because under the driver the workbench never shows notification toasts.
//
// Usage:
//   node test/vscode/runTest.mjs [options]
//     --extensionDevelopmentPath <dir>   extension under development (default: repo root)
//     --extensionTestsPath <file>        compiled suite entry (default: <repo>/out/test/vscode/suite/index.js)
//     --vsix <file.vsix>                 install this .vsix into the fresh profile and test the INSTALLED
//                                        extension instead of a development path (see "vsix mode" below)
//     --workspace <dir>                  folder copied to a temp dir and opened (default: test/vscode/workspace)
//     --timeout <s>                      overall limit, install to exit (default 600; env LOUPE_VSCODE_TIMEOUT)
//     --grep <regexp>, --bail            filter / stop at the first failure, in both phases (the
//                                        extension-host suite gets them as LOUPE_TEST_GREP / LOUPE_TEST_BAIL;
//                                        it also gets LOUPE_TEST_EXTENSION_ROOT: where the extension
//                                        must be loaded from: the dev path, or the profile's extensions dir)
//     --no-ui                            only phase 1 (the extension-host suite)
//     --ui-only                          only phase 2 (the UI tests)
//     --artifacts <dir>                  screenshots of the UI tests go to <dir>/ui (theme-*.png, failure-*.png);
//                                        on failure, logs and a screenshot of the workbench go to <dir>
//                                        (env LOUPE_VSCODE_ARTIFACTS; default <repo>/out/vscode-artifacts)
//     --keep                             keep the temp run folder (profile, logs) and print its path
//     --verbose                          also stream code-server's log and the page's console
//
// Exit code: 0 when every test of both phases passed (known-bug tests of the UI phase count as
// skipped), else 1: a test failed, install failed, a server did not start, the browser crashed,
// the suite never reported (payload ignored, extension host dead), no test passed at all, or the
// overall timeout hit.
// It always cleans up: closes the browser, kills code-server's process group (and any process that
// carries this run's LOUPE_VSCODE_RUN_ID in its environment), removes the vscode-ipc sockets it created
// and the temp run folder.
//
// vsix mode: VS Code only runs extensionTestsPath when extensionDevelopmentPath is also set (the
// extension host throws otherwise; checked in code-server 4.139.1's extensionHostProcess.js). So in
// vsix mode the runner passes an EMPTY folder as extensionDevelopmentPath: no extension is found
// there, the installed one is loaded from --extensions-dir as in production, and the tests still run.
//
// Paths of the tools: env LOUPE_NODE24 and LOUPE_CODE_SERVER_ENTRY, else <cache>/paths.env written by
// ensure-code-server.sh (cache: LOUPE_VSCODE_CACHE or ~/.cache/loupe-vscode); LOUPE_CHROMIUM (default
// /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import util, { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const T0 = Date.now();
const elapsed = () => `${((Date.now() - T0) / 1000).toFixed(1)}s`;
const log = (msg) => process.stderr.write(`[runTest ${elapsed()}] ${msg}\n`);

class Failure extends Error {}

// Workbench log lines that say nothing about the tests (and the offline gallery's errors).
const WORKBENCH_NOISE = [
  /open-vsx\.org/,
  /^Resolv(ing|ed) connection token/,
  /^Creating a socket \(/,
  /^\[reconnection-grace-time\]/,
  /^Updating additional builtin extensions cache/,
  /^\[Service Worker\]/,
  /^\[AgentHost/,
  /^\[AccountPolicyGate\]/,
  /^Creation of workbench contribution/,
  /^Timed out waiting for authentication provider/,
];

// ------------------------------------------------------------------------------------------ options
let opts;
try {
  opts = parseArgs({
    options: {
      extensionDevelopmentPath: { type: 'string' },
      extensionTestsPath: { type: 'string' },
      vsix: { type: 'string' },
      workspace: { type: 'string' },
      timeout: { type: 'string' },
      grep: { type: 'string' },
      bail: { type: 'boolean', default: false },
      artifacts: { type: 'string' },
      'no-ui': { type: 'boolean', default: false },
      'ui-only': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  }).values;
} catch (err) {
  console.error(`runTest: ${err.message}`);
  process.exit(2);
}
if (opts.help) {
  const src = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  console.log(src.slice(1, src.findIndex((l) => l.startsWith('import '))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

const timeoutS = Number(opts.timeout ?? process.env.LOUPE_VSCODE_TIMEOUT ?? 600);
if (!(timeoutS > 0)) {
  console.error(`runTest: bad --timeout ${opts.timeout}`);
  process.exit(2);
}
const vsix = opts.vsix ? path.resolve(opts.vsix) : undefined;
const devPathArg = path.resolve(opts.extensionDevelopmentPath ?? repoRoot);
const testsPath = path.resolve(opts.extensionTestsPath ?? path.join(repoRoot, 'out/test/vscode/suite/index.js'));
const workspaceSrc = path.resolve(opts.workspace ?? path.join(here, 'workspace'));
const artifactsDir = path.resolve(opts.artifacts ?? process.env.LOUPE_VSCODE_ARTIFACTS ?? path.join(repoRoot, 'out', 'vscode-artifacts'));
if (opts['no-ui'] && opts['ui-only']) {
  console.error('runTest: --no-ui and --ui-only exclude each other');
  process.exit(2);
}
const runHostPhase = !opts['ui-only'];
const runUiPhase = !opts['no-ui'];
const chromiumPath = process.env.LOUPE_CHROMIUM ?? '/usr/bin/chromium';

function readPathsEnv() {
  const cache = process.env.LOUPE_VSCODE_CACHE ?? path.join(os.homedir(), '.cache', 'loupe-vscode');
  const file = path.join(cache, 'paths.env');
  const out = {};
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^(\w+)=(.*)$/.exec(line.trim());
      if (m) out[m[1]] = m[2];
    }
  }
  return { file, values: out };
}
const pathsEnv = readPathsEnv();
const node24 = process.env.LOUPE_NODE24 ?? pathsEnv.values.LOUPE_NODE24;
const csEntry = process.env.LOUPE_CODE_SERVER_ENTRY ?? pathsEnv.values.LOUPE_CODE_SERVER_ENTRY;

// ------------------------------------------------------------------------------------------ state
const runId = crypto.randomUUID();
let runDir;
let server; // ChildProcess of code-server (leader of its own process group)
let serverExited = false;
let serverLogFile;
let context; // playwright BrowserContext
let page; // the workbench page of the current phase
let watchdog = null; // ChildProcess that kills the server's group if this runner dies
let cleanedUp = false;
let phase = 'checking the set-up';
const ipcBefore = listIpcSockets();

function listIpcSockets() {
  const dir = os.tmpdir();
  try {
    return new Set(fs.readdirSync(dir).filter((f) => /^vscode-ipc-.*\.sock$/.test(f)).map((f) => path.join(dir, f)));
  } catch {
    return new Set();
  }
}

function check(cond, message) {
  if (!cond) throw new Failure(message);
}

// ------------------------------------------------------------------------------------------ helpers
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tail(file, lines = 60) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function remoteUri(port, absPath) {
  return `vscode-remote://127.0.0.1:${port}${absPath.split(path.sep).map(encodeURIComponent).join('/')}`;
}

function csArgs(cfg) {
  return [csEntry, '--config', cfg, '--user-data-dir', path.join(runDir, 'user-data'), '--extensions-dir', path.join(runDir, 'extensions')];
}

function childEnv() {
  // XDG_RUNTIME_DIR: where VS Code puts its vscode-ipc-*.sock; TMPDIR: tsserver's and others' temp
  // files. Both inside the run folder, so removing it removes them.
  const env = { ...process.env, LOUPE_VSCODE_RUN_ID: runId, XDG_RUNTIME_DIR: path.join(runDir, 'xdg'), TMPDIR: path.join(runDir, 'tmp') };
  // The suite reads these inside the extension host (which inherits the server's environment).
  if (opts.grep) env.LOUPE_TEST_GREP = opts.grep;
  else delete env.LOUPE_TEST_GREP;
  // --grep also filters the UI tests: the in-host suite may then match nothing, which is fine.
  if (opts.grep && runUiPhase) env.LOUPE_TEST_ALLOW_NO_MATCH = '1';
  else delete env.LOUPE_TEST_ALLOW_NO_MATCH;
  if (opts.bail) env.LOUPE_TEST_BAIL = '1';
  // Where the extension under test must have been loaded from (the suite checks it).
  env.LOUPE_TEST_EXTENSION_ROOT = vsix ? path.join(runDir, 'extensions') : devPathArg;
  // Do not leak a VS Code terminal's own IPC hooks into the server.
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_')) delete env[k];
  delete env.ELECTRON_RUN_AS_NODE;
  return env;
}

// ------------------------------------------------------------------------------------------ cleanup
function processesOfThisRun() {
  const pids = [];
  let entries = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return pids;
  }
  const marker = `LOUPE_VSCODE_RUN_ID=${runId}`;
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${e}/environ`, 'latin1');
      if (environ.split('\0').includes(marker)) pids.push(Number(e));
    } catch {
      /* gone or not ours */
    }
  }
  return pids;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killServer() {
  if (!server?.pid) return;
  const pgid = server.pid;
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    for (let i = 0; i < 50 && groupAlive(pgid); i++) await sleep(100);
    if (groupAlive(pgid)) {
      log(`code-server group ${pgid} still alive after SIGTERM: SIGKILL`);
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (context) {
    await Promise.race([context.close().catch(() => {}), sleep(10_000)]);
  }
  await killServer();
  // Anything started by this run that escaped the process group (e.g. setsid'd children).
  for (let round = 0; round < 3; round++) {
    const strays = processesOfThisRun();
    if (strays.length === 0) break;
    if (round === 0) log(`killing ${strays.length} leftover process(es) of this run: ${strays.join(' ')}`);
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(200);
  }
  // IPC sockets: ours go to <runDir>/xdg (XDG_RUNTIME_DIR); remove any new stale one in /tmp too.
  for (const sock of listIpcSockets()) {
    if (ipcBefore.has(sock)) continue;
    const alive = await new Promise((resolve) => {
      const c = net.connect(sock);
      c.on('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (!alive) fs.rmSync(sock, { force: true });
  }
  if (runDir) {
    if (opts.keep) log(`kept run folder ${runDir}`);
    else fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function syncEmergencyCleanup() {
  // Last resort on process exit: no awaiting possible here.
  if (server?.pid && !cleanedUp) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
process.on('exit', syncEmergencyCleanup);

async function saveArtifacts(reason) {
  try {
    fs.mkdirSync(artifactsDir, { recursive: true });
    if (page) await page.screenshot({ path: path.join(artifactsDir, 'workbench.png'), timeout: 5000 }).catch(() => {});
    if (serverLogFile && fs.existsSync(serverLogFile)) fs.copyFileSync(serverLogFile, path.join(artifactsDir, 'code-server.log'));
    const logs = path.join(runDir, 'user-data', 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(artifactsDir, 'vscode-logs'), { recursive: true });
    fs.writeFileSync(path.join(artifactsDir, 'reason.txt'), `${reason}\n`);
    log(`artifacts saved in ${artifactsDir}`);
  } catch (err) {
    log(`could not save artifacts: ${err.message}`);
  }
}

function printDiagnostics() {
  if (serverLogFile) process.stderr.write(`----- code-server log (last lines) -----\n${tail(serverLogFile, 40)}\n`);
  const logs = runDir && path.join(runDir, 'user-data', 'logs');
  if (logs && fs.existsSync(logs)) {
    const hits = [];
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/exthost\.log$/i.test(e.name)) hits.push(p);
      }
    };
    walk(logs);
    for (const f of hits) process.stderr.write(`----- ${path.relative(runDir, f)} (last lines) -----\n${tail(f, 40)}\n`);
  }
}

// ------------------------------------------------------------------------------------------ main
async function main() {
  // Preconditions, with messages that say what to do.
  check(node24 && fs.existsSync(node24), `Node 24 not found (LOUPE_NODE24 or ${pathsEnv.file}): run tools/vscode/ensure-code-server.sh first`);
  check(csEntry && fs.existsSync(csEntry), `code-server not found (LOUPE_CODE_SERVER_ENTRY or ${pathsEnv.file}): run tools/vscode/ensure-code-server.sh first`);
  check(fs.existsSync(chromiumPath), `${chromiumPath} not found: apt-get install chromium (tools/vscode/ensure-code-server.sh does it)`);
  if (runHostPhase) check(fs.existsSync(testsPath), `tests not found: ${testsPath} (compile them: npm run compile-tests)`);
  check(fs.existsSync(workspaceSrc), `workspace fixture not found: ${workspaceSrc}`);
  if (vsix) check(fs.existsSync(vsix), `vsix not found: ${vsix}`);
  else check(fs.existsSync(path.join(devPathArg, 'package.json')), `no package.json in extensionDevelopmentPath ${devPathArg}`);

  let playwright;
  try {
    playwright = await import('playwright-core');
  } catch (err) {
    throw new Failure(`cannot load playwright-core (npm ci?): ${err.message}`);
  }
  const chromium = playwright.chromium ?? playwright.default?.chromium;

  runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-vscode-'));
  for (const d of ['user-data/User', 'extensions', 'browser', 'xdg', 'tmp', 'xdg-config', 'no-dev-extension']) {
    fs.mkdirSync(path.join(runDir, d), { recursive: true, mode: 0o700 });
  }
  const workspace = path.join(runDir, 'workspace');
  fs.cpSync(workspaceSrc, workspace, { recursive: true });
  fs.writeFileSync(
    path.join(runDir, 'user-data/User/settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'extensions.ignoreRecommendations': true,
        'update.mode': 'none',
        'chat.disableAIFeatures': true,
        'git.enabled': false,
        'workbench.tips.enabled': false,
        // An installed extension's walkthrough opens by itself (Loupe has one): not in the middle of the tests.
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
        // More room for the editors in the UI tests (the chat view would take the right side).
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
      },
      null,
      2,
    ),
  );
  // The config for --install-extension (each server gets its own, with a fresh port).
  const cfg = path.join(runDir, 'config.yaml');
  fs.writeFileSync(cfg, `bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n`);
  serverLogFile = path.join(runDir, 'code-server.log');
  log(`run folder ${runDir}, mode ${vsix ? `vsix (${vsix})` : `development (${devPathArg})`}, phases: ${[runHostPhase && 'extension host', runUiPhase && 'ui'].filter(Boolean).join(' + ')}`);
  // Failure artifacts of an earlier run in the same folder would mislead.
  for (const f of ['workbench.png', 'reason.txt', 'code-server.log', 'vscode-logs']) fs.rmSync(path.join(artifactsDir, f), { recursive: true, force: true });

  // vsix mode: install into this fresh profile.
  let devPath = devPathArg;
  if (vsix) {
    phase = 'installing the .vsix';
    log(`installing ${path.basename(vsix)} with code-server --install-extension`);
    const r = spawnSync(node24, [...csArgs(cfg), '--install-extension', vsix], {
      env: childEnv(),
      encoding: 'utf8',
      timeout: 180_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    if (opts.verbose || r.status !== 0) process.stderr.write(`${out}\n`);
    check(r.status === 0 && /successfully installed/i.test(out), `--install-extension ${vsix} failed (exit ${r.status ?? r.signal}): ${out.split('\n').slice(-5).join(' | ')}`);
    const installed = fs.readdirSync(path.join(runDir, 'extensions')).filter((d) => !d.startsWith('.') && d !== 'extensions.json');
    check(installed.length > 0, 'the .vsix installed, but nothing is in the extensions folder');
    log(`installed: ${installed.join(', ')}`);
    devPath = path.join(runDir, 'no-dev-extension'); // see "vsix mode" in the header
  }

  // Browser (one for both phases).
  phase = 'starting chromium';
  context = await chromium.launchPersistentContext(path.join(runDir, 'browser'), {
    executablePath: chromiumPath,
    headless: true,
    // XDG_CONFIG_HOME: chromium writes 'Crash Reports' there even with its own profile folder.
    env: { ...process.env, LOUPE_VSCODE_RUN_ID: runId, XDG_CONFIG_HOME: path.join(runDir, 'xdg-config'), TMPDIR: path.join(runDir, 'tmp') },
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });

  const results = [];
  if (runHostPhase) {
    const r = await hostPhase({ devPath, workspace });
    results.push(r);
    if (runUiPhase && opts.bail && r.code !== 0) {
      log('--bail: the extension-host suite failed, the UI tests are not run');
    }
  }
  if (runUiPhase && !(opts.bail && results.some((r) => r.code !== 0))) {
    if (runHostPhase) {
      phase = 'stopping the first code-server';
      await closePage();
      await stopServer();
    }
    results.push(await uiPhase({ workspace, devPath }));
    const restricted = await restrictedPhase();
    if (restricted) results.push(restricted);
  }

  const passed = results.reduce((s, r) => s + r.passed, 0);
  const failed = results.reduce((s, r) => s + r.failed, 0);
  const skipped = results.reduce((s, r) => s + r.pending, 0);
  const code = results.some((r) => r.code !== 0) ? 1 : 0;
  const detail = results.map((r) => `${r.name} ${r.passed} passed${r.failed ? ` ${r.failed} failed` : ''}${r.pending ? ` ${r.pending} skipped` : ''}`).join('; ');
  const summary = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''} (${detail})`;
  if (code === 0 && !(passed > 0)) {
    throw new Failure(`the suites exited 0 but no test passed (${summary}): did they run at all?`);
  }
  return { code, summary };
}

/**
 * Starts code-server on a fresh port in its own process group (detached = setsid), with a watchdog
 * that kills the group if this runner dies without cleaning up. Sets the globals server,
 * serverExited, watchdog. Returns { base, exitPromise }.
 */
async function startServer({ workspace, smokeTestDriver, trust = false }) {
  phase = 'starting code-server';
  const port = await freePort();
  const cfg = path.join(runDir, `config-${port}.yaml`);
  fs.writeFileSync(cfg, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const logFd = fs.openSync(serverLogFile, 'a');
  fs.writeSync(logFd, `\n===== code-server on port ${port}${smokeTestDriver ? ' (smoke-test driver)' : ''} =====\n`);
  serverExited = false;
  const srv = spawn(
    node24,
    [
      ...csArgs(cfg),
      '--disable-telemetry',
      '--disable-update-check',
      // Workspace trust is off, except for the restricted-workspace phase.
      ...(trust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--reconnection-grace-time',
      '10',
      ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
      workspace,
    ],
    { detached: true, stdio: ['ignore', logFd, logFd], env: childEnv() },
  );
  server = srv;
  fs.closeSync(logFd);
  // If this runner dies without cleaning up (SIGKILL, OOM), a tiny watchdog outside the group sees
  // its stdin close, kills the server's process group and removes the run folder.
  const watchdogScript = [
    'const [pgid, dir, keep] = process.argv.slice(1);',
    'process.stdin.resume();',
    "process.stdin.on('close', () => {",
    "  try { process.kill(-Number(pgid), 'SIGKILL'); } catch {}",
    "  setTimeout(() => { if (keep !== '1') { try { require('fs').rmSync(dir, { recursive: true, force: true }); } catch {} } process.exit(0); }, 1000);",
    '});',
  ].join('\n');
  watchdog = spawn(process.execPath, ['-e', watchdogScript, String(srv.pid), runDir, opts.keep ? '1' : '0'], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  watchdog.stdin.unref?.();
  const exitPromise = new Promise((resolve) => {
    srv.on('exit', (code, signal) => {
      if (server === srv) serverExited = true;
      resolve(`code ${code} signal ${signal}`);
    });
    srv.on('error', (err) => {
      if (server === srv) serverExited = true;
      resolve(err.message);
    });
  });
  let exitReason;
  exitPromise.then((why) => (exitReason = why));

  const base = `http://127.0.0.1:${port}`;
  const startBy = Date.now() + 90_000;
  for (;;) {
    if (serverExited) throw new Failure(`code-server exited while starting (${exitReason})`);
    if ((await httpStatus(`${base}/healthz`)) === 200) break;
    if (Date.now() > startBy) throw new Failure('code-server did not answer /healthz within 90 s');
    await sleep(250);
  }
  log(`code-server is up (pid ${srv.pid}, port ${port}${smokeTestDriver ? ', smoke-test driver on' : ''})`);
  return { base, exitPromise };
}

async function stopServer() {
  await killServer();
  // The server is gone: its watchdog has nothing left to guard (and must not kill a reused pgid).
  try {
    watchdog?.kill('SIGKILL');
  } catch {
    /* gone */
  }
  watchdog = null;
  server = null;
}

async function closePage() {
  if (!page) return;
  const p = page;
  page = null;
  await Promise.race([p.close({ runBeforeUnload: false }).catch(() => {}), sleep(5_000)]);
}

/** Rejects (Failure) when the page crashes or closes, or the server exits; `done()` stops watching. */
function watchForTrouble(p, exitPromise, what) {
  let active = true;
  const promise = new Promise((_, reject) => {
    p.on('crash', () => active && reject(new Failure(`the workbench page crashed ${what}`)));
    p.on('close', () => active && reject(new Failure(`the workbench page closed ${what}`)));
    exitPromise.then((why) => active && reject(new Failure(`code-server exited ${what} (${why})`)));
  });
  promise.catch(() => {});
  return { promise, done: () => (active = false) };
}

function attachPageLogging(p) {
  if (opts.verbose) p.on('console', (msg) => process.stderr.write(`[page ${msg.type()}] ${msg.text()}\n`));
  p.on('pageerror', (err) => {
    if (opts.verbose) process.stderr.write(`[page error] ${err.message}\n`);
  });
}

// ------------------------------------------------------------------------------------------ phase 1
/** The mocha suite inside the extension host (extensionTestsPath), as @vscode/test-electron runs it. */
async function hostPhase({ devPath, workspace }) {
  log('phase 1: the extension-host suite');
  const { base, exitPromise } = await startServer({ workspace, smokeTestDriver: true });
  page = await context.newPage();
  for (const other of context.pages()) if (other !== page) await other.close().catch(() => {});
  const thisPage = page;

  // What the suite reports.
  let passing;
  let failing;
  let pending;
  let resolveExit;
  const exitCodePromise = new Promise((r) => (resolveExit = r));
  const onLine = (line) => {
    let m;
    if ((m = /^\s*(\d+) passing\b/.exec(line))) passing = Number(m[1]);
    if ((m = /^\s*(\d+) failing\b/.exec(line))) failing = Number(m[1]);
    if ((m = /^\s*(\d+) pending\b/.exec(line))) pending = Number(m[1]);
  };
  // Everything the workbench logs arrives here: the extension host's console (so mocha's output) and
  // the workbench's own chatter, which is muted unless --verbose.
  await thisPage.exposeFunction('codeAutomationLog', (level, args) => {
    const text = Array.isArray(args) ? util.format(...args) : String(args);
    if (!opts.verbose && WORKBENCH_NOISE.some((re) => re.test(text))) return;
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    for (const line of text.split('\n')) onLine(line);
  });
  await thisPage.exposeFunction('codeAutomationExit', (code) => {
    resolveExit(Number.isInteger(Number(code)) ? Number(code) : 1);
  });
  attachPageLogging(thisPage);
  const trouble = watchForTrouble(thisPage, exitPromise, 'before the suite reported');

  const payload = [
    ['extensionDevelopmentPath', remoteUri(new URL(base).port, devPath)],
    ['extensionTestsPath', remoteUri(new URL(base).port, testsPath.replace(/\.js$/, ''))],
  ];
  const url = `${base}/?${new URLSearchParams({ folder: workspace, payload: JSON.stringify(payload) })}`;
  phase = 'loading the workbench';
  log(`opening the workbench; tests: ${testsPath}`);
  await thisPage.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  // With the smoke-test driver on, the workbench registers window.driver; without it the payload is
  // silently ignored and the tests never run.
  const driverReady = thisPage
    .waitForFunction(() => typeof globalThis.driver !== 'undefined', null, { timeout: 60_000 })
    .then(() => true, () => false);
  const early = await Promise.race([driverReady, exitCodePromise.then(() => true)]);
  if (!early) {
    throw new Failure('the workbench did not register its smoke-test driver within 60 s: the test payload would be ignored (code-server too old, or --vscode-option enable-smoke-test-driver not honoured)');
  }
  phase = 'waiting for the suite to report (it never did)';
  log('workbench loaded; waiting for the suite to report');

  const code = await Promise.race([exitCodePromise, trouble.promise]);
  trouble.done();
  log(`suite reported exit code ${code}`);
  // A failed run with no failing test counted (the suite threw, the host died) counts as one failure.
  const failed = code !== 0 && !failing ? 1 : (failing ?? 0);
  return { name: 'extension host', code, passed: passing ?? 0, failed, pending: pending ?? 0 };
}

// ------------------------------------------------------------------------------------------ phase 2
/**
 * The UI tests (test/vscode/ui/*.ui.mjs): the extension used through the workbench as a user would.
 * A fresh code-server on the same profile, WITHOUT the smoke-test driver: with it on, the workbench
 * never shows notification toasts (NotificationsToasts skips them under the driver).
 */
async function uiPhase({ workspace, devPath }) {
  log('phase 2: the UI tests (test/vscode/ui, the workbench driven as a user)');
  if (!vsix) {
    // Development mode. Without the smoke-test driver the workbench ignores an
    // extensionDevelopmentPath payload, so the repo goes into the profile's extensions folder as a
    // symlink, as if installed: with no extensions.json there (phase 1 wrote an empty one; nothing
    // is installed in this profile in development mode), the server scans the folder on start and
    // registers it. Removing the run folder unlinks it and never follows it (fs.rmSync does not
    // follow symlinks).
    const pkg = JSON.parse(fs.readFileSync(path.join(devPath, 'package.json'), 'utf8'));
    const link = path.join(runDir, 'extensions', `${pkg.publisher}.${pkg.name}-${pkg.version}`);
    if (!fs.existsSync(link)) fs.symlinkSync(devPath, link, 'dir');
    fs.rmSync(path.join(runDir, 'extensions', 'extensions.json'), { force: true });
  }
  const { base, exitPromise } = await startServer({ workspace, smokeTestDriver: false });
  page = await context.newPage();
  for (const other of context.pages()) if (other !== page) await other.close().catch(() => {});
  const thisPage = page;
  thisPage.setDefaultTimeout(30_000);
  attachPageLogging(thisPage);
  const trouble = watchForTrouble(thisPage, exitPromise, 'during the UI tests');
  phase = 'loading the workbench for the UI tests';
  await thisPage.goto(`${base}/?${new URLSearchParams({ folder: workspace })}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });

  const shotsDir = path.join(artifactsDir, 'ui');
  fs.rmSync(shotsDir, { recursive: true, force: true });
  phase = 'running the UI tests';
  const { runUiTests } = await import('./ui/index.mjs');
  const r = await Promise.race([
    runUiTests({ page: thisPage, context, origin: base, workspace, shotsDir, grep: opts.grep, bail: opts.bail }),
    trouble.promise,
  ]);
  trouble.done();
  log(`UI tests: ${r.passed} passed, ${r.failed} failed, ${r.pending} skipped; screenshots in ${shotsDir}`);
  // None ran and none matched --grep is fine when the other phase ran tests; main() checks the total.
  return { name: 'ui', code: r.failed > 0 ? 1 : 0, passed: r.passed, failed: r.failed, pending: r.pending };
}

// ------------------------------------------------------------------------------------------ phase 3
const RESTRICTED_SUITE = 'Restricted workspace';

/**
 * The UI tests of a restricted (untrusted) workspace (test/vscode/ui/restricted/*.ui.mjs): a fresh
 * code-server with workspace trust ON, opening a fresh copy of the workspace that has a model of its
 * own (a copy of the bundled classifier's folder, my-model/), which Loupe must refuse to run.
 * Skipped when --grep does not match the suite's title. Runs after phase 2 (its server is stopped).
 */
async function restrictedPhase() {
  if (opts.grep && !new RegExp(opts.grep).test(RESTRICTED_SUITE)) return null;
  log('phase 3: a restricted workspace (workspace trust on, the folder not trusted)');
  phase = 'stopping the UI tests\' code-server';
  await closePage();
  await stopServer();
  const workspace = path.join(runDir, 'workspace-restricted');
  fs.cpSync(workspaceSrc, workspace, { recursive: true });
  const extRoot = vsix ? fs.readdirSync(path.join(runDir, 'extensions')).map((d) => path.join(runDir, 'extensions', d)).find((d) => fs.existsSync(path.join(d, 'models'))) : devPathArg;
  check(extRoot, 'the installed extension was not found for the restricted phase');
  fs.cpSync(path.join(extRoot, 'models', 'spam-classifier'), path.join(workspace, 'my-model'), { recursive: true });
  const settingsFile = path.join(runDir, 'user-data/User/settings.json');
  const before = fs.readFileSync(settingsFile, 'utf8');
  fs.writeFileSync(
    settingsFile,
    JSON.stringify({ ...JSON.parse(before), 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.emptyWindow': false }, null, 2),
  );
  try {
    const { base, exitPromise } = await startServer({ workspace, smokeTestDriver: false, trust: true });
    page = await context.newPage();
    for (const other of context.pages()) if (other !== page) await other.close().catch(() => {});
    const thisPage = page;
    thisPage.setDefaultTimeout(30_000);
    attachPageLogging(thisPage);
    const trouble = watchForTrouble(thisPage, exitPromise, 'during the restricted-workspace tests');
    phase = 'loading the workbench for the restricted-workspace tests';
    await thisPage.goto(`${base}/?${new URLSearchParams({ folder: workspace })}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    phase = 'running the restricted-workspace tests';
    const { runUiTests } = await import('./ui/index.mjs');
    const r = await Promise.race([
      runUiTests({ page: thisPage, context, origin: base, workspace, shotsDir: path.join(artifactsDir, 'ui'), grep: opts.grep, bail: opts.bail, dir: path.join(here, 'ui', 'restricted') }),
      trouble.promise,
    ]);
    trouble.done();
    log(`restricted-workspace tests: ${r.passed} passed, ${r.failed} failed, ${r.pending} skipped`);
    return { name: 'restricted', code: r.failed > 0 ? 1 : 0, passed: r.passed, failed: r.failed, pending: r.pending };
  } finally {
    fs.writeFileSync(settingsFile, before);
  }
}

// ------------------------------------------------------------------------------------------ driver
let finished = false;
async function finish(code, reason, { diagnostics = true } = {}) {
  if (finished) return;
  finished = true;
  if (code !== 0) {
    if (reason) log(`FAILED: ${reason}`);
    await saveArtifacts(reason ?? `exit ${code}`).catch(() => {});
    if (diagnostics) printDiagnostics();
  }
  await cleanup().catch((err) => log(`cleanup error: ${err.message}`));
  log(`done in ${elapsed()}, exit ${code}`);
  process.exit(code);
}

const overall = setTimeout(() => {
  finish(1, `timed out after ${timeoutS} s while ${phase}`);
}, timeoutS * 1000);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => finish(sig === 'SIGINT' ? 130 : 143, `interrupted by ${sig}`));
}
process.on('unhandledRejection', (err) => finish(1, `unhandled rejection: ${err?.stack ?? err}`));

main().then(
  ({ code, summary }) => {
    clearTimeout(overall);
    // A plain closing line that CI logs can be read by.
    console.log(`integration: ${summary}`);
    if (code === 0) finish(0);
    else finish(code || 1, `the suite failed (${summary})`, { diagnostics: false });
  },
  (err) => {
    clearTimeout(overall);
    finish(1, err instanceof Failure ? err.message : (err?.stack ?? String(err)));
  },
);
