/* The address bar's state and the request fields that follow from it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserTimeZone, bucketOf, rangeFields, readState, writeState } from '../src/state.js';

test('a view survives the round trip through the address bar, filters with | in their value included', () => {
  const state = readState('?period=custom&from=2026-03-01&to=2026-03-31&compare=1&f=page|is|/a|b&f=country|is|DE&metric=pageviews&view=realtime&prop=plan');
  assert.deepEqual(state.filters, [
    { dimension: 'page', operator: 'is', value: '/a|b' },
    { dimension: 'country', operator: 'is', value: 'DE' },
  ]);
  assert.equal(state.compare, true);
  assert.equal(state.metric, 'pageviews');
  assert.deepEqual(readState(writeState(state)), state);
});

test('unknown or incomplete parameters fall back to the last 30 days without comparison', () => {
  assert.equal(readState('?period=forever').period, '30d');
  assert.equal(readState('?period=custom&from=2026-03-05&to=2026-03-01').period, '30d');
  assert.equal(readState('?period=custom&from=2026-03-05').period, '30d');
  assert.deepEqual(readState('?f=country&f=|is|x&f=page|is|').filters, []);
  const state = readState('');
  assert.equal(state.compare, false);
  assert.equal(state.tz, browserTimeZone());
  assert.equal(writeState(state), '?period=30d');
});

test('a custom range asks for the dates given, the end exclusive, in the zone shown', () => {
  const state = readState('?period=custom&from=2026-02-27&to=2026-02-28&tz=Europe/Berlin');
  assert.deepEqual(rangeFields(state), { timezone: 'Europe/Berlin', date_range: { start: '2026-02-27', end: '2026-03-01' } });
  assert.deepEqual(rangeFields(readState('?period=last_month&tz=UTC')), { timezone: 'UTC', period: 'last_month' });
});

test('the chart asks for hours on one day, days up to 92, weeks up to 400, months beyond', () => {
  const custom = (from, to) => bucketOf(readState(`?period=custom&from=${from}&to=${to}`));
  assert.equal(bucketOf(readState('?period=today')), 'hour');
  assert.equal(bucketOf(readState('?period=yesterday')), 'hour');
  assert.equal(bucketOf(readState('?period=7d')), 'date');
  assert.equal(bucketOf(readState('?period=last_month')), 'date');
  assert.equal(bucketOf(readState('?period=12m')), 'month');
  assert.equal(custom('2026-03-29', '2026-03-29'), 'hour');
  assert.equal(custom('2026-01-01', '2026-04-02'), 'date'); // 92 days
  assert.equal(custom('2026-01-01', '2026-04-03'), 'week'); // 93 days
  assert.equal(custom('2025-01-01', '2026-02-04'), 'week'); // 400 days
  assert.equal(custom('2025-01-01', '2026-02-05'), 'month');
});
