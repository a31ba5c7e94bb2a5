/* Builds dist/cp.min.js from src/cp.js with terser; `node scripts/build.js` writes it, tests import buildTracker. */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { minify } from 'terser';

export const SOURCE = fileURLToPath(new URL('../src/cp.js', import.meta.url));
export const OUTPUT = fileURLToPath(new URL('../dist/cp.min.js', import.meta.url));

const TERSER_OPTIONS = {
  ecma: 2020,
  compress: { passes: 3, unsafe_arrows: true },
  mangle: true,
  format: { comments: false },
};

export async function buildTracker() {
  const { code } = await minify(await readFile(SOURCE, 'utf8'), TERSER_OPTIONS);
  return code + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const code = await buildTracker();
  await mkdir(fileURLToPath(new URL('../dist/', import.meta.url)), { recursive: true });
  await writeFile(OUTPUT, code);
  const { gzipSync } = await import('node:zlib');
  console.log(`dist/cp.min.js: ${code.length} bytes, ${gzipSync(code, { level: 9 }).length} gzipped`);
}
