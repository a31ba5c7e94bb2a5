/* What the address bar carries (period, comparison, filters, chart metric, view; never the key), and the
   API request fields that follow from it. Time buckets come from the API; here only the bucket's kind. */
export const PERIODS = [
  ['today', 'Today'],
  ['yesterday', 'Yesterday'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['month', 'This month'],
  ['last_month', 'Last month'],
  ['12m', 'Last 12 months'],
  ['custom', 'Custom range'],
];
const PERIOD_NAMES = new Set(PERIODS.map(([p]) => p));
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const DIMENSION_LABELS = {
  page: 'Page', entry_page: 'Entry page', exit_page: 'Exit page', source: 'Source', channel: 'Channel',
  referrer_url: 'Referrer', utm_source: 'UTM source', utm_medium: 'UTM medium', utm_campaign: 'UTM campaign',
  utm_content: 'UTM content', utm_term: 'UTM term', country: 'Country', region: 'Region', city: 'City',
  device: 'Device', browser: 'Browser', os: 'Operating system', goal: 'Goal', event_name: 'Event',
  hostname: 'Hostname',
};

export function dimensionLabel(dimension) {
  if (dimension.startsWith('prop:')) return `Property ${dimension.slice(5)}`;
  return DIMENSION_LABELS[dimension] || dimension;
}

export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function readState(search) {
  const q = new URLSearchParams(search);
  const period = PERIOD_NAMES.has(q.get('period')) ? q.get('period') : '30d';
  const from = DATE.test(q.get('from') || '') ? q.get('from') : null;
  const to = DATE.test(q.get('to') || '') ? q.get('to') : null;
  const filters = q.getAll('f').map(parseFilter).filter(Boolean);
  return {
    period: period === 'custom' && !(from && to && from <= to) ? '30d' : period,
    from,
    to,
    compare: q.get('compare') === '1',
    filters,
    metric: q.get('metric') || 'visitors',
    view: q.get('view') === 'realtime' ? 'realtime' : 'overview',
    prop: q.get('prop') || '',
    tz: q.get('tz') || browserTimeZone(),
  };
}

function parseFilter(text) {
  const first = text.indexOf('|');
  const second = text.indexOf('|', first + 1);
  if (first < 1 || second < 0) return null;
  const value = text.slice(second + 1);
  if (!value) return null;
  return { dimension: text.slice(0, first), operator: text.slice(first + 1, second), value };
}

export function writeState(state) {
  const q = new URLSearchParams();
  q.set('period', state.period);
  if (state.period === 'custom') {
    q.set('from', state.from);
    q.set('to', state.to);
  }
  if (state.compare) q.set('compare', '1');
  for (const f of state.filters) q.append('f', `${f.dimension}|${f.operator}|${f.value}`);
  if (state.metric !== 'visitors') q.set('metric', state.metric);
  if (state.view !== 'overview') q.set('view', state.view);
  if (state.prop) q.set('prop', state.prop);
  if (state.tz !== browserTimeZone()) q.set('tz', state.tz);
  return `?${q}`;
}

function addDays(date, days) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function daysBetween(start, end) {
  return Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86400000);
}

/** The request fields for the chosen range: a period name, or a custom date_range (end exclusive). */
export function rangeFields(state) {
  const fields = { timezone: state.tz };
  if (state.period === 'custom') fields.date_range = { start: state.from, end: addDays(state.to, 1) };
  else fields.period = state.period;
  return fields;
}

/** Hour for one day, day up to three months, week up to a year and a bit, month beyond. */
export function bucketOf(state) {
  if (state.period === 'today' || state.period === 'yesterday') return 'hour';
  if (state.period === '12m') return 'month';
  if (state.period !== 'custom') return 'date';
  const days = daysBetween(state.from, state.to) + 1;
  if (days <= 1) return 'hour';
  if (days <= 92) return 'date';
  if (days <= 400) return 'week';
  return 'month';
}
