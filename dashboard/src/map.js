/* The world map: country shapes projected at build time (dist/world-*.json), shaded by visitors. */
import { svg } from './dom.js';
import { plain } from './format.js';

let shapes = null;

/** Start fetching the shapes (the page does so at once, alongside its first queries). */
export function loadShapes() {
  if (!shapes) {
    shapes = fetch('/dashboard/__WORLD_MAP__', { credentials: 'omit' }).then((r) => {
      if (!r.ok) throw new Error(`world map: ${r.status}`);
      return r.json();
    });
    shapes.catch(() => { shapes = null; });
  }
  return shapes;
}

/** An SVG of every country; those in `rows` shaded by visitors, each with its name and count as a tooltip. */
export async function worldMap(rows, countryName, onPick) {
  const { width, height, paths } = await loadShapes();
  const visitors = new Map(rows.map((row) => [row.country, row.visitors]));
  const max = Math.max(1, ...visitors.values());
  const map = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'world', role: 'img',
    'aria-label': 'Map of visitors by country' });
  for (const [code, d] of Object.entries(paths)) {
    const count = visitors.get(code) || 0;
    const path = svg('path', { d, 'data-country': code });
    if (count) {
      path.setAttribute('class', 'has');
      path.style.fillOpacity = String(0.2 + 0.8 * Math.sqrt(count / max));
      path.addEventListener('click', () => onPick(code));
    }
    const title = svg('title');
    title.textContent = `${countryName(code)}: ${plain(count)} visitor${count === 1 ? '' : 's'}`;
    path.append(title);
    map.append(path);
  }
  return map;
}
