/* The shipped file: identical to a fresh build of src/cp.js and within the size budget. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { buildTracker, OUTPUT } from '../scripts/build.js';

export const GZIP_BUDGET_BYTES = 1536; // 1.5 KB

test('dist/cp.min.js is a fresh build of src/cp.js (run `npm run build`)', async () => {
  assert.equal(await readFile(OUTPUT, 'utf8'), await buildTracker());
});

test('dist/cp.min.js is at most 1.5 KB gzipped', async () => {
  const gzipped = gzipSync(await readFile(OUTPUT), { level: 9 }).length;
  assert.ok(gzipped <= GZIP_BUDGET_BYTES, `${gzipped} bytes gzipped, budget ${GZIP_BUDGET_BYTES}`);
});
