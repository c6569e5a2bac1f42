// Bundles the UI with esbuild: src/main.tsx (TypeScript + Preact + uPlot, and the CSS it imports)
// into <outdir>/main-<hash>.js and main-<hash>.css, and writes <outdir>/index.html pointing at
// them. Run by the CMake build (ui/CMakeLists.txt), whose next step embeds <outdir> in the
// binary (embed.mjs), and by `npm run build`. Fails when the bundle outgrows its budget.
//   node build.mjs --outdir DIR
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BUDGET_GZIP_BYTES = 250 * 1024; // issue 16: bundle <= 250 KB gzipped

const outIndex = process.argv.indexOf('--outdir');
if (outIndex < 0 || !process.argv[outIndex + 1]) {
  console.error('usage: node build.mjs --outdir DIR');
  process.exit(2);
}
const outdir = path.resolve(process.argv[outIndex + 1]);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error(`ui: esbuild is not installed in ${path.join(here, 'node_modules')}; ` +
    'run scripts/install-deps.sh (it runs `npm ci` in ui/)');
  process.exit(1);
}

fs.rmSync(outdir, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['src/main.tsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir,
  entryNames: '[name]-[hash]',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
const script = outputs.find((n) => n.endsWith('.js'));
const style = outputs.find((n) => n.endsWith('.css'));
const page = fs.readFileSync(path.join(here, 'src', 'index.html'), 'utf8')
  .replace('%SCRIPT%', `/ui/${script}`)
  .replace('%STYLE%', `/ui/${style}`);
fs.writeFileSync(path.join(outdir, 'index.html'), page);

let gzipped = 0;
for (const name of fs.readdirSync(outdir)) {
  gzipped += zlib.gzipSync(fs.readFileSync(path.join(outdir, name)), { level: 9 }).length;
}
console.log(`ui: ${script}, ${style}, index.html: ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
if (gzipped > BUDGET_GZIP_BYTES) {
  console.error(`ui: the bundle is ${gzipped} bytes gzipped, over the ${BUDGET_GZIP_BYTES} byte budget`);
  process.exit(1);
}
