/* Pageviews: on load, on SPA navigations, the endpoint and the session id round trip. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, settle, SESSION_ID, TRACK_URL } from './harness.js';

test('sends a pageview on load to the script origin with referrer and screen width', async () => {
  const page = await openPage({ url: 'https://example.com/start?utm_source=news', referrer: 'https://news.example.org/a' });
  assert.equal(page.requests.length, 1);
  const [request] = page.requests;
  assert.equal(request.url, TRACK_URL);
  assert.equal(request.init.method, 'POST');
  assert.equal(request.init.keepalive, true);
  assert.equal(request.init.credentials, 'omit');
  assert.equal(typeof request.init.body, 'string', 'a string body is sent as text/plain: no CORS preflight');
  assert.equal(request.init.headers, undefined);
  assert.deepEqual(request.body, {
    type: 'pageview',
    url: 'https://example.com/start?utm_source=news',
    domain: 'example.com',
    referrer: 'https://news.example.org/a',
    screen_width: page.window.innerWidth,
  });
  assert.deepEqual(page.errors, []);
});

test('leaves out an empty referrer', async () => {
  const page = await openPage();
  assert.equal('referrer' in page.sent('pageview')[0], false);
});

test('keeps the answered session id in sessionStorage cp_sid and sends it back', async () => {
  const page = await openPage();
  assert.equal(page.window.sessionStorage.getItem('cp_sid'), String(SESSION_ID));
  page.window.history.pushState({}, '', '/next');
  await settle();
  assert.equal(page.sent('pageview')[1].session_id, SESSION_ID);
});

test('continues the session stored in cp_sid from the first request', async () => {
  const page = await openPage({ setup: (w) => w.sessionStorage.setItem('cp_sid', '9007199254740991') });
  assert.equal(page.sent('pageview')[0].session_id, 9007199254740991);
});

test('data-api overrides the endpoint', async () => {
  const page = await openPage({ attributes: 'data-domain="example.com" data-api="https://stats.example.com/api/track"' });
  assert.equal(page.requests[0].url, 'https://stats.example.com/api/track');
});

test('pushState to a new path sends a new pageview with the new url', async () => {
  const page = await openPage();
  page.window.history.pushState({}, '', '/pricing?plan=pro');
  await settle();
  const urls = page.sent('pageview').map((b) => b.url);
  assert.deepEqual(urls, ['https://example.com/start', 'https://example.com/pricing?plan=pro']);
});

test('replaceState to a new path counts, to the same path does not', async () => {
  const page = await openPage();
  page.window.history.replaceState({}, '', '/start?utm_source=cleaned');
  await settle();
  assert.equal(page.sent('pageview').length, 1);
  page.window.history.replaceState({}, '', '/other');
  await settle();
  assert.equal(page.sent('pageview').length, 2);
});

test('popstate (back) sends a pageview for the page returned to', async () => {
  const page = await openPage();
  page.window.history.pushState({}, '', '/second');
  await settle();
  page.window.history.back();
  await new Promise((resolve) => page.window.addEventListener('popstate', resolve, { once: true }));
  await settle();
  assert.deepEqual(
    page.sent('pageview').map((b) => b.url),
    ['https://example.com/start', 'https://example.com/second', 'https://example.com/start']
  );
});

test('hash changes are ignored without data-hash', async () => {
  const page = await openPage();
  page.window.location.hash = '#pricing';
  await new Promise((resolve) => page.window.addEventListener('hashchange', resolve, { once: true }));
  page.window.history.pushState({}, '', '#faq');
  await settle();
  assert.equal(page.sent('pageview').length, 1);
});

test('hash changes are pageviews with data-hash', async () => {
  const page = await openPage({ attributes: 'data-domain="example.com" data-hash' });
  page.window.location.hash = '#/pricing';
  await new Promise((resolve) => page.window.addEventListener('hashchange', resolve, { once: true }));
  await settle();
  assert.deepEqual(
    page.sent('pageview').map((b) => b.url),
    ['https://example.com/start', 'https://example.com/start#/pricing']
  );
});

test('loading the script twice tracks once', async () => {
  const page = await openPage({ head: `<script defer data-domain="example.com" src="https://cdn.clickport.test/cp.js"></script>` });
  assert.equal(page.sent('pageview').length, 1);
  assert.deepEqual(page.errors, []);
});
