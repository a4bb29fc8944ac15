// Entry point of the integration tests that run INSIDE a real VS Code extension host, in the usual
// @vscode/test-electron shape: VS Code loads this module (extensionTestsPath) and awaits `run()`.
//
// It runs mocha (tdd ui: suite/test/suiteSetup) over every `*.vscode.test.js` in this folder.
// `extension.vscode.test.js` always runs first: it checks the state right after activation (no
// engine started), which any other file that runs a command would spoil.
//
// Environment (set by test/vscode/runTest.mjs --grep / --bail, or by hand):
//   LOUPE_TEST_GREP   only run tests whose full title matches this regular expression
//   LOUPE_TEST_BAIL   "1": stop at the first failure
//   LOUPE_TEST_ALLOW_NO_MATCH  "1": a LOUPE_TEST_GREP that matches no test here is not an error
//                     (runTest.mjs sets it when the grep is meant for its UI tests too)
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

const FIRST = 'extension.vscode.test.js';

export async function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'tdd',
    reporter: 'spec',
    color: false,
    timeout: 120_000,
    slow: 5_000,
    bail: process.env.LOUPE_TEST_BAIL === '1',
  });
  const grep = process.env.LOUPE_TEST_GREP;
  if (grep) mocha.grep(new RegExp(grep));

  const dir = __dirname;
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.vscode.test.js'))
    .sort((a, b) => (a === FIRST ? -1 : b === FIRST ? 1 : a.localeCompare(b)));
  if (files.length === 0) throw new Error(`no *.vscode.test.js files in ${dir}: were the tests compiled?`);
  for (const f of files) mocha.addFile(path.join(dir, f));
  console.log(`[loupe-suite] running ${files.length} file(s): ${files.join(', ')}`);

  await new Promise<void>((resolve, reject) => {
    let ran = 0;
    try {
      const runner = mocha.run((failures) => {
        if (failures > 0) reject(new Error(`${failures} test(s) failed`));
        else if (ran === 0 && !(grep && process.env.LOUPE_TEST_ALLOW_NO_MATCH === '1')) reject(new Error(grep ? `no test matched LOUPE_TEST_GREP=${grep}` : 'no test ran'));
        else resolve();
      });
      runner.on('test end', () => {
        ran++;
      });
    } catch (err) {
      reject(err);
    }
  });
}
