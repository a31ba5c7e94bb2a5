/* Numbers for people: compact counts next to exact tooltips, durations, percentages and money. */
const exact = new Intl.NumberFormat('en-US');
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const decimal2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function duration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function money(amounts) {
  const entries = Object.entries(amounts || {});
  if (!entries.length) return '–';
  return entries
    .map(([currency, amount]) => new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount))
    .join('\n');
}

/** [shown, tooltip] for a metric's value. */
export function metricText(metric, value) {
  if (value === null || value === undefined) return ['–', ''];
  switch (metric) {
    case 'bounce_rate':
    case 'avg_scroll':
      return [`${value}%`, `${value}%`];
    case 'conversion_rate':
      return [`${value}%`, `${value}%`];
    case 'views_per_visit':
      return [decimal2.format(value), String(value)];
    case 'avg_duration':
      return [duration(value), `${exact.format(value)} seconds`];
    case 'total_revenue':
      return [money(value), money(value).replace(/\n/g, ', ')];
    default:
      return [value >= 10000 ? compact.format(value) : exact.format(value), exact.format(value)];
  }
}

export const POINT_METRICS = new Set(['bounce_rate', 'avg_scroll', 'conversion_rate']);
export const LOWER_IS_BETTER = new Set(['bounce_rate']);

/** The change against the comparison: relative % or, for rates, percentage points. */
export function changeText(metric, change) {
  if (change === null || change === undefined) return 'new';
  const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
  const size = Math.abs(change);
  return POINT_METRICS.has(metric) ? `${sign}${size} pts` : `${sign}${size}%`;
}

export function plain(value) {
  return exact.format(value);
}
