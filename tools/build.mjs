// One esbuild script, separate bundles per process: extension host, engine worker, CLI, bench, webview.
// onnxruntime-node stays external: its .node binary cannot be bundled and ships inside the .vsix.
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// The tokenizer library is bundled, so its version is recorded at build time.
const tokenizersVersion = JSON.parse(readFileSync('node_modules/@huggingface/tokenizers/package.json', 'utf8')).version;
const engineVersion = JSON.parse(readFileSync('package.json', 'utf8')).version;

const nodeCommon = {
  define: { LOUPE_TOKENIZERS_VERSION: JSON.stringify(tokenizersVersion), LOUPE_ENGINE_VERSION: JSON.stringify(engineVersion) },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'info',
};

const builds = [
  // The banner marks when the bundle starts to load (the activation figures of `npm run bench:vscode`).
  { ...nodeCommon, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist', banner: { js: 'globalThis.__loupeBundleStart = performance.now();' } },
  { ...nodeCommon, entryPoints: { worker: 'src/engine/worker/main.ts' }, outdir: 'dist' },
  { ...nodeCommon, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' },
  { ...nodeCommon, entryPoints: { bench: 'tools/bench/main.ts' }, outdir: 'dist' },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    entryPoints: { prediction: 'webview/prediction/main.ts', attention: 'webview/attention/main.ts', explain: 'webview/explain/main.ts', dashboard: 'webview/dashboard/main.ts', importance: 'webview/importance/main.ts' },
    outdir: 'dist/webview',
    loader: { '.css': 'css' },
    logLevel: 'info',
  },
];

if (watch) {
  for (const options of builds) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
