/* The dashboard: sign-in, top bar, KPI row, chart, panels, filters and the realtime view, over the public API. */
import { api, ApiError, describe } from './api.js';
import { h, replace } from './dom.js';
import { changeText, LOWER_IS_BETTER, metricText, plain } from './format.js';
import { TimeChart } from './chart.js';
import { loadShapes } from './map.js';
import { errorBox, Panel, panelDefinitions, shownValue } from './panels.js';
import { browserTimeZone, bucketOf, dimensionLabel, PERIODS, rangeFields, readState, writeState } from './state.js';

const KEY_STORE = 'clickport:key';
const SITE_STORE = 'clickport:site'; // the key's display prefix (ck_ + 8) and the domain
const LIVE_SECONDS = 30;
const REALTIME_SECONDS = 10;
const KPIS = [
  ['visitors', 'Visitors'],
  ['sessions', 'Sessions'],
  ['pageviews', 'Pageviews'],
  ['views_per_visit', 'Views per visit'],
  ['bounce_rate', 'Bounce rate'],
  ['avg_duration', 'Avg. duration'],
];
const KPI_NAMES = new Set(KPIS.map(([m]) => m));
const app = document.getElementById('app');

/** `/#key=ck_…` signs in and leaves the address bar without the key (the fragment never reaches a server). */
function keyFromFragment() {
  const match = /^#key=([^&]+)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(KEY_STORE, decodeURIComponent(match[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

function signIn(message) {
  stopTimers();
  sessionStorage.removeItem(KEY_STORE);
  sessionStorage.removeItem(SITE_STORE);
  const input = h('input', { type: 'password', name: 'key', id: 'key', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'ck_…', required: true, 'aria-describedby': 'key-help' });
  const form = h('form', { class: 'signin card', onsubmit: (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORE, input.value.trim());
    start();
  } },
  h('h1', {}, 'Clickport'),
  h('label', { for: 'key' }, 'Read key'),
  input,
  h('p', { id: 'key-help', class: 'help' },
    'A key with the read permission (clickport keys create --site SITE --read). It stays in this tab only.'),
  message && h('p', { class: 'error', role: 'alert' }, message),
  h('button', { type: 'submit' }, 'Sign in'));
  replace(app, h('main', { class: 'center' }, form));
  input.focus();
}

let timers = [];
function stopTimers() {
  timers.forEach(clearInterval);
  timers = [];
}

function start() {
  keyFromFragment();
  const key = sessionStorage.getItem(KEY_STORE);
  if (!key) return signIn();
  new Dashboard(key).mount();
}

class Dashboard {
  constructor(key) {
    this.key = key;
    this.state = readState(location.search);
    this.generation = 0;
    this.ctx = {
      state: this.state,
      query: (body) => this.query(body),
      addFilter: (dimension, value) => this.addFilter(dimension, value),
      setProp: (prop) => { this.state.prop = prop; this.pushState(); },
      fatal: (error) => this.fatal(error),
      retryLater: (error, again) => this.retryLater(error, again),
    };
  }

  query(body) {
    return api(this.key, '/api/query', { ...rangeFields(this.state), filters: this.state.filters, ...body });
  }

  /** A 401 or 403 ends the session: back to the sign-in form with the reason. */
  fatal(error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      signIn(describe(error));
      return true;
    }
    return false;
  }

  retryLater(error, again) {
    if (error instanceof ApiError && error.status === 429) setTimeout(again, 1000 * Math.min(30, error.retryAfter || 5));
  }

  mount() {
    stopTimers();
    this.site = h('strong', { class: 'site' }, '…');
    this.live = h('span', { class: 'live-count', 'data-live': '' }, '–');
    this.period = h('select', { id: 'period', 'aria-label': 'Period', onchange: () => this.changePeriod() },
      PERIODS.map(([value, label]) => h('option', { value, selected: value === this.state.period }, label)));
    this.from = h('input', { type: 'date', 'aria-label': 'From', value: this.state.from || '' });
    this.to = h('input', { type: 'date', 'aria-label': 'To (inclusive)', value: this.state.to || '' });
    this.custom = h('form', { class: 'custom', hidden: this.state.period !== 'custom', onsubmit: (e) => {
      e.preventDefault();
      if (this.from.value && this.to.value && this.from.value <= this.to.value) {
        Object.assign(this.state, { period: 'custom', from: this.from.value, to: this.to.value });
        this.update();
      }
    } }, this.from, h('span', {}, '–'), this.to, h('button', { type: 'submit' }, 'Apply'));
    this.compare = h('input', { type: 'checkbox', id: 'compare', checked: this.state.compare,
      onchange: () => { this.state.compare = this.compare.checked; this.update(); } });
    this.tzSelect = this.timeZones();
    this.viewButton = h('button', { type: 'button', class: 'view', 'aria-pressed': String(this.state.view === 'realtime'),
      onclick: () => { this.state.view = this.state.view === 'realtime' ? 'overview' : 'realtime'; this.update(); } }, 'Realtime');
    const top = h('header', { class: 'top' },
      h('div', { class: 'brand' }, this.site,
        h('span', { class: 'live', title: `Visitors active in the last 5 minutes (refreshed every ${LIVE_SECONDS} s)` },
          h('span', { class: 'dot', 'aria-hidden': 'true' }), this.live, ' live')),
      h('div', { class: 'controls' },
        this.period, this.custom,
        h('label', { class: 'toggle' }, this.compare, 'Compare'),
        this.tzSelect,
        this.viewButton,
        h('button', { type: 'button', class: 'signout', onclick: () => signIn() }, 'Sign out')));
    this.chips = h('div', { class: 'chips', 'aria-label': 'Filters' });
    this.kpis = h('section', { class: 'kpis', 'aria-label': 'Key figures' });
    this.kpiCells = new Map(KPIS.map(([metric, label]) => {
      const value = h('span', { class: 'value', 'data-metric': metric }, '…');
      const change = h('span', { class: 'change', 'data-change': metric });
      const cell = h('button', { type: 'button', class: 'kpi', 'data-kpi': metric, 'aria-pressed': 'false',
        onclick: () => { this.state.metric = metric; this.update(); } },
      h('span', { class: 'label' }, label), value, change);
      this.kpis.append(cell);
      return [metric, { cell, value, change }];
    }));
    this.kpiError = h('div', { class: 'kpi-error' });
    this.chartBox = h('div', { class: 'chart', 'aria-label': 'Chart of the chosen metric over time', role: 'img' });
    this.chartError = h('div');
    this.chart = new TimeChart(this.chartBox);
    this.panels = panelDefinitions().map((definition) => new Panel(this.ctx, definition));
    this.overview = h('main', { class: 'overview' },
      this.chips, this.kpis, this.kpiError,
      h('section', { class: 'card chart-card' }, this.chartError, this.chartBox),
      h('div', { class: 'grid' }, this.panels.map((p) => p.el)));
    this.realtime = h('main', { class: 'realtime' });
    replace(app, top, this.overview, this.realtime);
    window.onpopstate = () => {
      Object.assign(this.state, readState(location.search));
      this.render();
    };
    loadShapes().catch(() => {}); // the countries panel shows what it has if the map cannot come
    this.loadSite();
    this.loadLive();
    timers.push(setInterval(() => this.loadLive(), LIVE_SECONDS * 1000));
    timers.push(setInterval(() => { if (this.state.view === 'realtime') this.loadRealtime(); }, REALTIME_SECONDS * 1000));
    this.render();
  }

  /** The zone of days and hours: the browser's unless the address bar names another. */
  timeZones() {
    let zones = [];
    try {
      zones = Intl.supportedValuesOf('timeZone');
    } catch {
      zones = [];
    }
    const names = [...new Set([this.state.tz, browserTimeZone(), 'UTC', ...zones])];
    return h('select', { class: 'tz', 'aria-label': 'Time zone', title: 'Time zone of days and hours',
      onchange: (e) => { this.state.tz = e.target.value; this.update(); } },
    names.map((zone) => h('option', { value: zone, selected: zone === this.state.tz }, zone)));
  }

  changePeriod() {
    const period = this.period.value;
    if (period === 'custom') {
      this.custom.hidden = false;
      this.from.focus();
      return;
    }
    this.state.period = period;
    this.update();
  }

  addFilter(dimension, value) {
    this.state.filters = [...this.state.filters.filter((f) => f.dimension !== dimension),
      { dimension, operator: 'is', value }];
    this.update();
  }

  removeFilter(index) {
    this.state.filters = this.state.filters.filter((_, i) => i !== index);
    this.update();
  }

  pushState() {
    const search = writeState(this.state);
    if (search !== location.search) history.pushState(null, '', location.pathname + search);
  }

  update() {
    this.pushState();
    this.render();
  }

  render() {
    if (!KPI_NAMES.has(this.state.metric)) this.state.metric = 'visitors';
    this.period.value = this.state.period;
    this.custom.hidden = this.state.period !== 'custom';
    this.compare.checked = this.state.compare;
    if ([...this.tzSelect.options].some((o) => o.value === this.state.tz)) this.tzSelect.value = this.state.tz;
    const realtime = this.state.view === 'realtime';
    this.viewButton.setAttribute('aria-pressed', String(realtime));
    this.overview.hidden = realtime;
    this.realtime.hidden = !realtime;
    if (realtime) {
      this.loadRealtime();
      return;
    }
    replace(this.chips, this.state.filters.map((f, i) => h('button', {
      type: 'button', class: 'chip', 'data-filter': f.dimension,
      'aria-label': `Remove filter ${dimensionLabel(f.dimension)} ${f.operator} ${f.value}`,
      onclick: () => this.removeFilter(i) },
    h('span', {}, `${dimensionLabel(f.dimension)} ${f.operator.replace('_', ' ')} `), h('strong', {}, shownValue(f.dimension, f.value)),
    h('span', { class: 'x', 'aria-hidden': 'true' }, ' ×'))),
    this.state.filters.length > 1 && h('button', { type: 'button', class: 'chip clear', onclick: () => {
      this.state.filters = [];
      this.update();
    } }, 'Clear all'));
    for (const [metric, { cell }] of this.kpiCells) cell.setAttribute('aria-pressed', String(metric === this.state.metric));
    const generation = ++this.generation;
    const work = [this.loadKpis(generation), this.loadChart(generation), ...this.panels.map((p) => p.load())];
    // NOTE: #app's data-rendered names the last view drawn in full (tests wait on it); data-first-drawn-ms is
    // the time from navigation until the first one (docs/benchmarks.md).
    Promise.allSettled(work).then(() => {
      if (generation !== this.generation) return;
      if (!app.dataset.firstDrawnMs) app.dataset.firstDrawnMs = String(Math.round(performance.now()));
      app.dataset.rendered = String(generation);
    });
  }

  /** The site's domain: its most viewed hostname (the API has no site endpoint); kept for this tab. */
  async loadSite() {
    const known = sessionStorage.getItem(SITE_STORE);
    if (known && known.startsWith(`${this.key.slice(0, 11)} `)) {
      this.showSite(known.slice(12));
      return;
    }
    try {
      const answer = await api(this.key, '/api/query', { metrics: ['pageviews'], dimensions: ['hostname'], period: '30d',
        limit: 1, timezone: this.state.tz });
      const host = answer.results[0]?.hostname;
      if (!host) {
        this.site.textContent = 'No pageviews in the last 30 days';
        return;
      }
      this.showSite(host.replace(/^www\./, ''));
      sessionStorage.setItem(SITE_STORE, `${this.key.slice(0, 11)} ${this.site.textContent}`);
    } catch (error) {
      if (!this.fatal(error)) this.site.textContent = 'Clickport';
    }
  }

  showSite(domain) {
    this.site.textContent = domain;
    document.title = `${domain} · Clickport`;
  }

  async loadLive() {
    try {
      const answer = await api(this.key, '/api/realtime');
      this.live.textContent = plain(answer.count);
      this.live.dataset.live = String(answer.count);
    } catch (error) {
      if (!this.fatal(error)) this.live.textContent = '?';
    }
  }

  async loadKpis(generation) {
    this.kpis.classList.add('loading');
    try {
      const answer = await this.query({ metrics: KPIS.map(([m]) => m), include_comparison: this.state.compare });
      if (generation !== this.generation) return;
      replace(this.kpiError);
      const comparison = this.state.compare ? answer.comparison : null;
      for (const [metric, { value, change }] of this.kpiCells) {
        const [text, exact] = metricText(metric, answer.results[metric]);
        value.textContent = text;
        value.title = exact;
        value.dataset.value = JSON.stringify(answer.results[metric]);
        if (comparison) {
          const delta = comparison.change[metric];
          const previous = metricText(metric, comparison.results[metric])[1];
          change.textContent = changeText(metric, delta);
          change.title = `Previous period: ${previous}`;
          change.dataset.value = JSON.stringify(delta);
          const good = delta === null || delta === 0 ? 'flat' : (delta > 0) !== LOWER_IS_BETTER.has(metric) ? 'up' : 'down';
          change.className = `change ${good}`;
        } else {
          change.textContent = '';
          change.className = 'change';
          delete change.dataset.value;
        }
      }
    } catch (error) {
      if (generation !== this.generation || this.fatal(error)) return;
      for (const { value, change } of this.kpiCells.values()) {
        value.textContent = '–';
        change.textContent = '';
      }
      replace(this.kpiError, errorBox(error, () => this.render()));
      this.retryLater(error, () => this.loadKpis(this.generation));
    } finally {
      if (generation === this.generation) this.kpis.classList.remove('loading');
    }
  }

  async loadChart(generation) {
    const bucket = bucketOf(this.state);
    const metric = this.state.metric;
    this.chartBox.classList.add('loading');
    try {
      const answer = await this.query({ metrics: [metric], dimensions: [bucket], include_comparison: this.state.compare });
      if (generation !== this.generation) return;
      replace(this.chartError);
      const metricLabel = KPIS.find(([m]) => m === metric)[1];
      this.chart.draw({ bucket, metric, metricLabel, rows: answer.results, compare: this.state.compare });
      this.chartBox.dataset.buckets = String(answer.results.length);
    } catch (error) {
      if (generation !== this.generation || this.fatal(error)) return;
      replace(this.chartError, errorBox(error, () => this.render()));
      this.retryLater(error, () => this.loadChart(this.generation));
    } finally {
      if (generation === this.generation) this.chartBox.classList.remove('loading');
    }
  }

  async loadRealtime() {
    try {
      const answer = await api(this.key, '/api/realtime');
      this.live.textContent = plain(answer.count);
      this.live.dataset.live = String(answer.count);
      const rows = answer.visitors.map((v) => h('tr', { 'data-session': v.session_id },
        h('td', {}, v.entry_page), h('td', {}, v.exit_page), h('td', { class: 'num' }, plain(v.pageviews)),
        h('td', { class: 'num' }, metricText('avg_duration', v.duration)[0]), h('td', {}, v.source),
        h('td', {}, [shownValue('country', v.country), v.city !== '(none)' ? `, ${v.city}` : '']),
        h('td', {}, `${v.device} · ${v.browser} · ${v.os}`)));
      replace(this.realtime, h('section', { class: 'card' },
        h('h2', {}, h('span', { class: 'big', 'data-realtime-count': String(answer.count) }, plain(answer.count)),
          ` visitor${answer.count === 1 ? '' : 's'} in the last 5 minutes`),
        h('p', { class: 'help' }, `${answer.visitors.length ? 'The most recently active sessions, newest first' : 'No live sessions'}; refreshed every ${REALTIME_SECONDS} s.`),
        rows.length ? h('div', { class: 'scroll' }, h('table', { class: 'sessions' },
          h('thead', {}, h('tr', {}, ['Entry page', 'Current page', 'Views', 'Duration', 'Source', 'Place', 'Device']
            .map((t, i) => h('th', { class: i === 2 || i === 3 ? 'num' : null }, t)))),
          h('tbody', {}, rows))) : h('p', { class: 'empty' }, 'Nobody right now.')));
    } catch (error) {
      if (this.fatal(error)) return;
      replace(this.realtime, h('section', { class: 'card' }, errorBox(error, () => this.loadRealtime())));
    }
  }
}

start();
