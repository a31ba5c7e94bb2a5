/* Numbers for people, and the change against the previous period. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeText, duration, metricText, money } from '../src/format.js';

test('counts are compact from ten thousand on, with the exact value for the tooltip', () => {
  assert.deepEqual(metricText('visitors', 9999), ['9,999', '9,999']);
  assert.deepEqual(metricText('visitors', 12345), ['12.3K', '12,345']);
  assert.deepEqual(metricText('pageviews', 0), ['0', '0']);
});

test('rates, ratios and durations read as such', () => {
  assert.deepEqual(metricText('bounce_rate', 42), ['42%', '42%']);
  assert.deepEqual(metricText('views_per_visit', 2.5), ['2.50', '2.5']);
  assert.deepEqual(metricText('avg_duration', 3725), ['1h 02m', '3,725 seconds']);
  assert.equal(duration(59), '59s');
  assert.equal(duration(61), '1m 01s');
});

test('revenue shows each currency', () => {
  assert.equal(money({}), '–');
  assert.equal(money({ EUR: 99.5, USD: 49.99 }), '€99.50\n$49.99');
});

test('changes are percent, points for rates, and "new" when the previous period had none', () => {
  assert.equal(changeText('visitors', 20.2), '+20.2%');
  assert.equal(changeText('visitors', -3.5), '−3.5%');
  assert.equal(changeText('bounce_rate', -3), '−3 pts');
  assert.equal(changeText('visitors', 0), '±0%');
  assert.equal(changeText('visitors', null), 'new');
});
