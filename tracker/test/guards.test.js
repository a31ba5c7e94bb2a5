/* When the tracker stays silent, and what it stores: only cp_sid, never cookies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, settle } from './harness.js';

async function exerciseEverything(page) {
  page.window.clickport.track('Purchase', { plan: 'pro' }, { amount: 1 });
  page.window.history.pushState({}, '', '/next');
  page.scrollTo(3000);
  page.clock.now += 5000;
  page.setHidden(true);
  page.window.dispatchEvent(new page.window.Event('pagehide'));
  await settle();
}

async function assertSilent(options) {
  const page = await openPage(options);
  await exerciseEverything(page);
  assert.deepEqual(page.requests, []);
  assert.deepEqual(page.beacons, []);
  assert.equal(page.window.sessionStorage.length, 0);
  assert.deepEqual(page.errors, [], 'clickport.track stays callable when the tracker is off');
}

test('does nothing under navigator.webdriver', async () => {
  await assertSilent({ setup: (w) => Object.defineProperty(w.navigator, 'webdriver', { get: () => true }) });
});

test('does nothing when the visitor opted out with localStorage cp_ignore', async () => {
  await assertSilent({ setup: (w) => w.localStorage.setItem('cp_ignore', 'true') });
});

test('an opt-out flag other than "true" does not opt out', async () => {
  const page = await openPage({ setup: (w) => w.localStorage.setItem('cp_ignore', 'false') });
  assert.equal(page.sent('pageview').length, 1);
});

for (const url of ['http://localhost:3000/', 'http://127.0.0.1:8000/', 'http://[::1]:8080/']) {
  test(`does nothing on ${url} without data-allow-localhost`, async () => {
    await assertSilent({ url });
  });
}

test('tracks on localhost with data-allow-localhost', async () => {
  const page = await openPage({
    url: 'http://localhost:3000/',
    attributes: 'data-domain="localhost" data-allow-localhost',
  });
  assert.deepEqual(page.sent('pageview').map((b) => b.url), ['http://localhost:3000/']);
});

test('a host that merely starts with localhost is tracked', async () => {
  const page = await openPage({ url: 'https://localhost.example.com/' });
  assert.equal(page.sent('pageview').length, 1);
});

test('stores only cp_sid in sessionStorage, nothing in localStorage, no cookies', async () => {
  const page = await openPage({ body: '<a id="out" href="https://other.example.org/">Out</a>' });
  await exerciseEverything(page);
  assert.ok(page.requests.length >= 3 && page.beacons.length >= 1, 'the tracker was active');
  const { sessionStorage, localStorage, document } = page.window;
  assert.deepEqual(Object.keys(sessionStorage), ['cp_sid']);
  assert.equal(localStorage.length, 0);
  assert.equal(document.cookie, '');
  for (const request of page.requests) assert.equal(request.init.credentials, 'omit');
});

test('keeps working when storage is blocked', async () => {
  const page = await openPage({
    setup: (w) => {
      for (const name of ['sessionStorage', 'localStorage']) {
        Object.defineProperty(w, name, {
          get() {
            throw new w.DOMException('blocked', 'SecurityError');
          },
        });
      }
    },
  });
  page.window.history.pushState({}, '', '/next');
  await settle();
  assert.deepEqual(page.sent('pageview').map((b) => b.session_id), [undefined, 4242], 'the session id is kept in memory');
  assert.deepEqual(page.errors, []);
});
