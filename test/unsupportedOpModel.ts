// A model Loupe can read the attention of but cannot differentiate: a copy of the bert-token-type
// fixture whose Erf nodes are Tan (no vector-Jacobian product). Plain fs, no engine: the engine tests
// and the in-VS-Code suite both use it.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes the copy into `into`/bert-tan (test/fixtures is `fixtures`); returns its folder. */
export function modelWithUnsupportedOp(fixtures: string, into: string): string {
  const src = path.join(fixtures, 'models', 'bert-token-type');
  const dir = path.join(into, 'bert-tan');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  const bytes = fs.readFileSync(path.join(dir, 'model.onnx'));
  const from = Buffer.from([0x22, 0x03, ...Buffer.from('Erf')]); // NodeProto.op_type = "Erf"
  const to = Buffer.from([0x22, 0x03, ...Buffer.from('Tan')]);
  let count = 0;
  for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) {
    to.copy(bytes, at);
    count++;
  }
  if (count === 0) throw new Error(`${src} has no Erf node to replace`);
  fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
  return dir;
}
