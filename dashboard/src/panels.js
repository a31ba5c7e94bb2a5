/* Breakdown panels: tabs of top-N lists (visitors and a bar), a row click adds an `is` filter, and "Details"
   opens the full breakdown with paging. Each panel shows its own error or emptiness, never nothing. */
import { h, replace } from './dom.js';
import { describe } from './api.js';
import { metricText } from './format.js';
import { dimensionLabel } from './state.js';
import { worldMap } from './map.js';

const TOP = 10;
const PAGE = 50;

let regionNames = null;
export function countryName(code) {
  try {
    regionNames = regionNames || new Intl.DisplayNames(['en'], { type: 'region' });
    return (code && code.length === 2 && regionNames.of(code)) || code;
  } catch {
    return code;
  }
}

export function shownValue(dimension, value) {
  if (dimension === 'country') return countryName(value);
  return value;
}

function columnHeads(tab, dimension) {
  return h('div', { class: 'row head', 'aria-hidden': 'true' },
    h('span', { class: 'label' }, dimensionLabel(dimension)),
    tab.columns.map((c) => h('span', { class: `num ${c.wide ? 'wide' : ''} ${c.money ? 'money' : ''}` }, c.label)));
}

function rowButton(tab, dimension, row, max, ctx) {
  const value = row[dimension];
  const share = max > 0 ? (100 * (row.visitors || 0)) / max : 0;
  const shown = shownValue(dimension, value);
  return h('li', {},
    h('button', {
      class: 'row', type: 'button', 'data-dimension': dimension, 'data-value': value,
      title: `Filter: ${dimensionLabel(dimension)} is ${shown}`,
      onclick: () => ctx.addFilter(dimension, value),
    },
    h('span', { class: 'bar', style: { width: `${share.toFixed(1)}%` } }),
    h('span', { class: 'label' }, shown),
    tab.columns.map((c) => {
      const [text, exact] = metricText(c.metric, row[c.metric]);
      return h('span', { class: `num ${c.wide ? 'wide' : ''} ${c.money ? 'money' : ''}`, 'data-col': c.metric, 'data-raw': JSON.stringify(row[c.metric]),
        title: exact }, text);
    })));
}

export function errorBox(error, retry) {
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, describe(error)),
    retry && h('button', { type: 'button', onclick: retry }, 'Retry'));
}

export class Panel {
  constructor(ctx, { id, title, tabs }) {
    this.ctx = ctx;
    this.tabs = tabs;
    this.tab = tabs[0];
    this.generation = 0;
    this.tabButtons = tabs.map((tab) => h('button', {
      type: 'button', role: 'tab', class: 'tab', 'data-tab': tab.key, onclick: () => this.select(tab),
    }, tab.label));
    this.extra = h('div', { class: 'extra' });
    this.body = h('div', { class: 'body' });
    this.more = h('button', { type: 'button', class: 'more', onclick: () => this.details() }, 'Details');
    this.el = h('section', { class: 'card panel', id, 'aria-label': title },
      h('header', {}, h('h2', {}, title), h('div', { class: 'tabs', role: 'tablist' }, this.tabButtons)),
      this.extra, this.body, h('footer', {}, this.more));
    this.markTabs();
  }

  markTabs() {
    this.tabButtons.forEach((b, i) => b.setAttribute('aria-selected', String(this.tabs[i] === this.tab)));
    replace(this.extra, this.tab.extra ? this.tab.extra(this) : null);
  }

  select(tab) {
    this.tab = tab;
    this.markTabs();
    this.load();
  }

  dimension() {
    return typeof this.tab.dimension === 'function' ? this.tab.dimension(this.ctx.state) : this.tab.dimension;
  }

  request(dimension, limit, offset) {
    return {
      metrics: this.tab.columns.map((c) => c.metric),
      dimensions: [dimension],
      limit,
      offset,
      ...(this.tab.orderBy ? { order_by: this.tab.orderBy } : {}),
    };
  }

  async load() {
    const generation = ++this.generation;
    const tab = this.tab;
    const dimension = this.dimension();
    this.el.classList.add('loading');
    if (!this.body.firstChild) replace(this.body, h('p', { class: 'empty' }, 'Loading…'));
    if (!dimension) {
      replace(this.body, h('p', { class: 'empty' }, tab.prompt || 'Choose what to break down by.'));
      this.el.classList.remove('loading');
      this.more.hidden = true;
      return;
    }
    try {
      const answer = await this.ctx.query(this.request(dimension, tab.map ? 300 : TOP, 0));
      if (generation !== this.generation) return;
      const rows = answer.results;
      const top = rows.slice(0, TOP);
      const max = Math.max(0, ...top.map((r) => r.visitors || 0));
      const list = top.length
        ? h('ul', { class: 'rows', 'data-dimension': dimension }, top.map((row) => rowButton(tab, dimension, row, max, this.ctx)))
        : h('p', { class: 'empty' }, 'No data for this period and these filters.');
      const parts = [];
      if (tab.map) {
        parts.push(await worldMap(rows, countryName, (code) => this.ctx.addFilter('country', code)).catch(() => null));
      }
      if (generation !== this.generation) return;
      parts.push(top.length ? columnHeads(tab, dimension) : null, list);
      replace(this.body, parts);
      this.more.hidden = answer.meta.total_rows <= TOP;
      this.more.textContent = `Details (${answer.meta.total_rows})`;
    } catch (error) {
      if (generation !== this.generation) return;
      if (this.ctx.fatal(error)) return;
      replace(this.body, errorBox(error, () => this.load()));
      this.more.hidden = true;
      this.ctx.retryLater(error, () => this.load());
    } finally {
      if (generation === this.generation) this.el.classList.remove('loading');
    }
  }

  /** The full breakdown, PAGE rows at a time, in a modal dialog (Escape closes it). */
  details() {
    const tab = this.tab;
    const dimension = this.dimension();
    const body = h('div', { class: 'body' });
    const status = h('span', { class: 'pages' });
    const prev = h('button', { type: 'button' }, '← Previous');
    const next = h('button', { type: 'button' }, 'Next →');
    const dialog = h('dialog', { class: 'details', 'aria-label': `${dimensionLabel(dimension)}: all rows` },
      h('header', {}, h('h2', {}, dimensionLabel(dimension)),
        h('button', { type: 'button', class: 'close', 'aria-label': 'Close', onclick: () => dialog.close() }, '×')),
      body, h('footer', {}, prev, status, next));
    let offset = 0;
    const page = async () => {
      body.classList.add('loading');
      try {
        const answer = await this.ctx.query(this.request(dimension, PAGE, offset));
        const rows = answer.results;
        const total = answer.meta.total_rows;
        const max = Math.max(0, ...rows.map((r) => r.visitors || 0));
        const close = { ...this.ctx, addFilter: (d, v) => { dialog.close(); this.ctx.addFilter(d, v); } };
        replace(body, columnHeads(tab, dimension),
          h('ul', { class: 'rows' }, rows.map((row) => rowButton(tab, dimension, row, max, close))));
        status.textContent = total ? `${offset + 1}–${offset + rows.length} of ${total}` : 'No rows';
        prev.disabled = offset === 0;
        next.disabled = offset + PAGE >= total;
      } catch (error) {
        if (this.ctx.fatal(error)) { dialog.close(); return; }
        replace(body, errorBox(error, page));
      } finally {
        body.classList.remove('loading');
      }
    };
    prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); page(); });
    next.addEventListener('click', () => { offset += PAGE; page(); });
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    page();
  }
}

const V = { metric: 'visitors', label: 'Visitors' };

export function panelDefinitions() {
  const utm = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'];
  return [
    { id: 'panel-pages', title: 'Pages', tabs: [
      { key: 'page', label: 'Pages', dimension: 'page', columns: [V, { metric: 'pageviews', label: 'Views', wide: true }] },
      { key: 'entry', label: 'Entry', dimension: 'entry_page', columns: [V, { metric: 'sessions', label: 'Sessions', wide: true }] },
      { key: 'exit', label: 'Exit', dimension: 'exit_page', columns: [V, { metric: 'sessions', label: 'Sessions', wide: true }] },
    ] },
    { id: 'panel-sources', title: 'Sources', tabs: [
      { key: 'source', label: 'Sources', dimension: 'source', columns: [V] },
      { key: 'channel', label: 'Channels', dimension: 'channel', columns: [V] },
      { key: 'referrer', label: 'Referrers', dimension: 'referrer_url', columns: [V] },
      { key: 'utm', label: 'UTM', dimension: (state) => state.utm || 'utm_source', columns: [V],
        extra: (panel) => h('select', { 'aria-label': 'UTM tag', onchange: (e) => { panel.ctx.state.utm = e.target.value; panel.load(); } },
          utm.map((d) => h('option', { value: d, selected: d === (panel.ctx.state.utm || 'utm_source') }, dimensionLabel(d)))) },
    ] },
    { id: 'panel-locations', title: 'Locations', tabs: [
      { key: 'country', label: 'Countries', dimension: 'country', columns: [V], map: true },
      { key: 'region', label: 'Regions', dimension: 'region', columns: [V] },
      { key: 'city', label: 'Cities', dimension: 'city', columns: [V] },
    ] },
    { id: 'panel-devices', title: 'Devices', tabs: [
      { key: 'device', label: 'Devices', dimension: 'device', columns: [V] },
      { key: 'browser', label: 'Browsers', dimension: 'browser', columns: [V] },
      { key: 'os', label: 'OS', dimension: 'os', columns: [V] },
    ] },
    { id: 'panel-goals', title: 'Goals', tabs: [
      { key: 'goal', label: 'Goals', dimension: 'goal', columns: [
        { metric: 'visitors', label: 'Uniques' }, { metric: 'conversions', label: 'Conv.' },
        { metric: 'conversion_rate', label: 'CR' }, { metric: 'total_revenue', label: 'Revenue', money: true }] },
    ] },
    { id: 'panel-props', title: 'Events and properties', tabs: [
      { key: 'event', label: 'Events', dimension: 'event_name', columns: [V, { metric: 'events', label: 'Events', wide: true }] },
      { key: 'prop', label: 'Properties', dimension: (state) => (state.prop ? `prop:${state.prop}` : null), columns: [V],
        prompt: 'Type a property key (a meta_keys entry the site sends, such as click_url or form_id) above.',
        extra: (panel) => h('form', { class: 'prop', onsubmit: (e) => {
          e.preventDefault();
          panel.ctx.setProp(new FormData(e.target).get('prop').trim());
          panel.load();
        } },
        h('input', { name: 'prop', list: 'prop-keys', value: panel.ctx.state.prop, placeholder: 'property key',
          'aria-label': 'Property key', maxlength: 100 }),
        h('datalist', { id: 'prop-keys' }, ['click_url', 'click_text', 'form_id', 'form_name'].map((k) => h('option', { value: k }))),
        h('button', { type: 'submit' }, 'Show')) },
    ] },
  ];
}
