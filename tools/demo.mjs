// `npm run demo`: the main job on the three bundled demo models, through the `loupe` CLI.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'loupe.js');
const runs = [
  ['models'],
  ['predict', '--model', 'spam-classifier', '--text', 'Congratulations! You have been selected for a FREE cruise. Click here to claim your prize now!'],
  ['predict', '--model', 'spam-classifier', '--text', 'Hi Tom, the meeting moved to 3pm tomorrow. Can you bring the draft of the report?'],
  ['predict', '--model', 'moby-lm', '--text', 'Call me Ishmael. Some years ago, never mind how long precisely, I thought I would sail about and see the watery part of the', '--generate', '12'],
  ['predict', '--model', 'breast-cancer', '--file', path.join(root, 'models', 'breast-cancer', 'sample.csv')],
  ['importance', '--model', 'breast-cancer', '--data', path.join(root, 'models', 'breast-cancer', 'sample.csv'), '--scoring', 'neg_log_loss', '--repeats', '10'],
];
for (const args of runs) {
  console.log(`\n$ loupe ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
