/* Engagement updates: greatest scroll depth and visible time of a page visit, sent when it is hidden or left. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, pageVisitId, settle, SESSION_ID, TRACK_URL } from './harness.js';

test('visibilitychange to hidden sends one engagement beacon with scroll and visible time', async () => {
  const page = await openPage(); // 4000 px page, 1000 px viewport: 25 % seen on load
  page.clock.now += 3000;
  page.scrollTo(1800); // bottom of the viewport at 2800 of 4000 px
  page.clock.now += 2000;
  page.setHidden(true);

  assert.equal(page.beacons.length, 1);
  assert.equal(page.beacons[0].url, TRACK_URL);
  assert.equal(page.beacons[0].data.type, 'text/plain');
  assert.deepEqual(await page.beaconBodies(), [
    {
      type: 'engagement',
      url: 'https://example.com/start',
      domain: 'example.com',
      session_id: SESSION_ID,
      page_visit_id: pageVisitId(1),
      scroll: 70,
      engaged_ms: 5000,
    },
  ]);
  assert.equal(page.sent('engagement').length, 0, 'engagement goes by beacon, not fetch');
});

test('keeps the greatest scroll depth, not the last one', async () => {
  const page = await openPage();
  page.scrollTo(3000);
  page.scrollTo(0);
  page.setHidden(true);
  assert.equal((await page.beaconBodies())[0].scroll, 100);
});

test('re-measures scroll depth when the layout changes', async () => {
  const page = await openPage();
  page.scrollTo(1000); // 50 %
  page.layout.height = 2500; // content removed: the same position is now 80 %
  page.layoutChanged();
  page.setHidden(true);
  assert.equal((await page.beaconBodies())[0].scroll, 80);
});

test('re-measures scroll depth on window resize', async () => {
  const page = await openPage();
  page.window.innerHeight = 2000;
  page.window.dispatchEvent(new page.window.Event('resize'));
  page.setHidden(true);
  assert.equal((await page.beaconBodies())[0].scroll, 50);
});

test('counts visible time only: hidden and blurred stretches are left out', async () => {
  const page = await openPage();
  page.clock.now += 1000;
  page.setHidden(true); // engaged 1000
  page.clock.now += 60_000;
  page.setHidden(false);
  page.clock.now += 2000; // engaged 3000
  page.window.dispatchEvent(new page.window.Event('blur'));
  page.clock.now += 30_000;
  page.window.dispatchEvent(new page.window.Event('focus'));
  page.clock.now += 500; // engaged 3500
  page.setHidden(true);

  const bodies = await page.beaconBodies();
  assert.deepEqual(bodies.map((b) => b.engaged_ms), [1000, 3500], 'engaged_ms is the running total of the page visit');
});

test('pagehide after hidden sends nothing new; pagehide alone sends the update', async () => {
  const page = await openPage();
  page.clock.now += 1200;
  page.setHidden(true);
  page.window.dispatchEvent(new page.window.Event('pagehide'));
  assert.equal(page.beacons.length, 1);

  const other = await openPage();
  other.clock.now += 800;
  other.window.dispatchEvent(new other.window.Event('pagehide'));
  assert.deepEqual((await other.beaconBodies()).map((b) => b.engaged_ms), [800]);
});

test('an SPA navigation closes the previous page visit before the next pageview', async () => {
  const page = await openPage();
  page.clock.now += 4000;
  page.scrollTo(1800);
  page.window.history.pushState({}, '', '/second');
  assert.equal(page.beacons.length, 1, 'the update is sent synchronously, before the next pageview');
  await settle();
  assert.deepEqual(await page.beaconBodies(), [
    {
      type: 'engagement',
      url: 'https://example.com/start',
      domain: 'example.com',
      session_id: SESSION_ID,
      page_visit_id: pageVisitId(1),
      scroll: 70,
      engaged_ms: 4000,
    },
  ]);
  assert.equal(page.sent('pageview').length, 2);

  // the new page visit starts from zero time and the current depth
  page.window.scrollY = 0;
  page.clock.now += 1500;
  page.setHidden(true);
  const second = (await page.beaconBodies())[1];
  assert.equal(second.url, 'https://example.com/second');
  assert.equal(second.page_visit_id, pageVisitId(2));
  assert.equal(second.engaged_ms, 1500);
  assert.equal(second.scroll, 70);
});

test('no engagement update before the pageview has been answered', async () => {
  const page = await openPage();
  page.window.history.pushState({}, '', '/second'); // its answer is still pending
  page.clock.now += 1000;
  page.setHidden(true);
  assert.equal(page.beacons.length, 1, 'only the first page visit, whose id is known, is updated');
});

test('falls back to fetch keepalive when sendBeacon is missing or refuses', async () => {
  for (const setup of [
    (w) => delete w.navigator.sendBeacon,
    (w) => (w.navigator.sendBeacon = () => false),
  ]) {
    const page = await openPage({ setup });
    page.clock.now += 2500;
    page.setHidden(true);
    const [update] = page.sent('engagement');
    assert.equal(update.engaged_ms, 2500);
    assert.equal(update.page_visit_id, pageVisitId(1));
    const request = page.requests.at(-1);
    assert.equal(request.init.keepalive, true);
    assert.equal(typeof request.init.body, 'string');
  }
});
