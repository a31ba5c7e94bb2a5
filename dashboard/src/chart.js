/* The chosen metric over the API's own time buckets (labels as the API sends them: no dates computed here). */
import uPlot from 'uplot';
import { metricText } from './format.js';

const SHORT_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A bucket label for the axis: "14:00", "Mar 29", "Mar 2026". Plain string work on the API's label. */
export function bucketLabel(bucket, label, long = false) {
  if (!label) return '';
  if (bucket === 'hour') return long ? label : label.slice(11, 16);
  const [y, m, d] = label.split('-');
  const month = SHORT_MONTHS[Number(m) - 1] || m;
  if (bucket === 'month') return `${month} ${y}`;
  const day = `${month} ${Number(d)}`;
  if (bucket === 'week') return long ? `week of ${day}, ${y}` : day;
  return long ? `${day}, ${y}` : day;
}

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class TimeChart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(container);
  }

  size() {
    const width = Math.max(280, this.container.clientWidth);
    return { width, height: width < 600 ? 200 : 260 };
  }

  resize() {
    if (this.plot) this.plot.setSize(this.size());
  }

  /** rows: the API's results (time order); compare: whether rows carry `comparison`. */
  draw({ bucket, metric, metricLabel, rows, compare }) {
    const labels = rows.map((row) => row[bucket]);
    const xs = rows.map((_, i) => i);
    const values = rows.map((row) => row[metric] ?? 0);
    const data = [xs, values];
    const accent = css('--accent');
    const muted = css('--muted');
    const grid = css('--grid');
    const series = [
      { label: { hour: 'Hour', date: 'Day', week: 'Week', month: 'Month' }[bucket], value: (u, i) => (i === null ? '' : bucketLabel(bucket, labels[Math.round(i)], true)) },
      {
        label: metricLabel, stroke: accent, width: 2, fill: `${accent}22`, points: { show: rows.length < 40 },
        value: (u, v) => (v === null ? '–' : metricText(metric, v)[1]),
      },
    ];
    if (compare) {
      data.push(rows.map((row) => (row.comparison ? row.comparison[metric] ?? 0 : 0)));
      series.push({
        label: 'Previous period', stroke: muted, width: 1.5, dash: [6, 4], points: { show: false },
        value: (u, v) => (v === null ? '–' : metricText(metric, v)[1]),
      });
    }
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const options = {
      ...this.size(),
      series,
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        {
          ...axis, grid: { show: false },
          splits: (u) => {
            const every = Math.max(1, Math.ceil(xs.length / (u.width < 600 ? 5 : 12)));
            return xs.filter((i) => i % every === 0);
          },
          values: (u, splits) => splits.map((i) => bucketLabel(bucket, labels[i])),
        },
        { ...axis, size: 56, values: (u, splits) => splits.map((v) => metricText(metric, v)[0]) },
      ],
      legend: { live: true },
      cursor: { points: { size: 7 } },
    };
    if (this.plot) this.plot.destroy();
    this.container.replaceChildren();
    this.plot = new uPlot(options, data, this.container);
  }
}
