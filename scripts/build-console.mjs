#!/usr/bin/env node
// Builds the operator console (apps/console/src) into dist/console: one minified ES module and
// one stylesheet with content hashes in their names (cached for good), and index.html naming them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'apps/console/src');
const out = join(root, 'dist/console');
mkdirSync(join(out, 'assets'), { recursive: true });

const started = Date.now();
const result = await build({
  entryPoints: [join(src, 'main.js')],
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`console build produced ${outputs.join(', ')}`);
const html = readFileSync(join(src, 'index.html'), 'utf8').replace('__JS__', js).replace('__CSS__', css);
writeFileSync(join(out, 'index.html'), html);
const size = (f) => readFileSync(join(out, 'assets', f)).length;
console.log(`[console] ${js} ${(size(js) / 1024).toFixed(1)} kB, ${css} ${(size(css) / 1024).toFixed(1)} kB in ${Date.now() - started} ms`);
