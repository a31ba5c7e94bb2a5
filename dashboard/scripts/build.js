/* Builds dist/ from src/: one script and one style sheet (esbuild, minified, content-hashed names), the world map
   projected to SVG paths at build time, and index.html naming them. `node scripts/build.js` writes dist/;
   `--check` only says whether dist/ is a fresh build of src/ (exit 1 when not). */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { geoEqualEarth, geoPath } from 'd3-geo';
import { iso31661NumericToAlpha2 } from 'iso-3166/1-n-to-1-a2.js';
import { feature } from 'topojson-client';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DIST = `${ROOT}dist/`;
export const GZIP_BUDGET_BYTES = 150 * 1024;
const MAP_WIDTH = 960;
const MAP_HEIGHT = 440;

function hashed(name, ext, content) {
  return `${name}-${createHash('sha256').update(content).digest('hex').slice(0, 10)}.${ext}`;
}

/** Countries of Natural Earth 1:110m as SVG path data keyed by ISO 3166-1 alpha-2 (Antarctica left out). */
async function worldMap() {
  const topology = JSON.parse(await readFile(`${ROOT}node_modules/world-atlas/countries-110m.json`, 'utf8'));
  const countries = feature(topology, topology.objects.countries).features
    .map((f) => ({ code: iso31661NumericToAlpha2[String(Number(f.id))], f }))
    .filter(({ code }) => code && code !== 'AQ');
  const projection = geoEqualEarth().fitSize([MAP_WIDTH, MAP_HEIGHT], {
    type: 'FeatureCollection', features: countries.map(({ f }) => f),
  });
  const path = geoPath(projection).digits(0);
  const paths = {};
  for (const { code, f } of countries.sort((a, b) => a.code.localeCompare(b.code))) {
    const d = path(f);
    if (d) paths[code] = (paths[code] || '') + d;
  }
  return JSON.stringify({ width: MAP_WIDTH, height: MAP_HEIGHT, paths });
}

async function bundle(entry, loader) {
  const result = await esbuild.build({
    entryPoints: [`${ROOT}src/${entry}`],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15'],
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    loader,
  });
  return result.outputFiles[0].text;
}

/** Every file of dist/, by name. */
export async function buildDashboard() {
  const map = await worldMap();
  const mapName = hashed('world', 'json', map);
  const script = (await bundle('main.js')).replace('__WORLD_MAP__', mapName);
  const styles = await bundle('style.css', { '.css': 'css' });
  const scriptName = hashed('app', 'js', script);
  const stylesName = hashed('app', 'css', styles);
  const page = (await readFile(`${ROOT}src/index.html`, 'utf8'))
    .replace('__STYLES__', stylesName)
    .replace('__SCRIPT__', scriptName);
  return { 'index.html': page, [scriptName]: script, [stylesName]: styles, [mapName]: map };
}

async function current() {
  const names = await readdir(DIST).catch(() => []);
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(DIST + n, 'utf8')])));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildDashboard();
  if (process.argv.includes('--check')) {
    const shipped = await current();
    const same = Object.keys(files).length === Object.keys(shipped).length
      && Object.entries(files).every(([name, text]) => shipped[name] === text);
    if (!same) {
      console.error('dashboard/dist is not a fresh build of dashboard/src: run `npm run build` in dashboard/');
      process.exit(1);
    }
    console.log('dashboard/dist is a fresh build of dashboard/src');
  } else {
    await rm(DIST, { recursive: true, force: true });
    await mkdir(DIST, { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(DIST + name, text);
  }
  let total = 0;
  for (const [name, text] of Object.entries(files)) {
    const gz = gzipSync(text, { level: 9 }).length;
    total += gz;
    console.log(`${name}: ${text.length} bytes, ${gz} gzipped`);
  }
  console.log(`total: ${total} bytes gzipped (budget ${GZIP_BUDGET_BYTES})`);
  if (total > GZIP_BUDGET_BYTES) process.exit(1);
}
