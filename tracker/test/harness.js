/* A fake browser page (jsdom) that loads the built tracker like a real page does and records what it sends. */
import { readFileSync } from 'node:fs';
import jsdom from 'jsdom';

const { JSDOM, VirtualConsole, requestInterceptor } = jsdom;

export const SCRIPT_URL = 'https://cdn.clickport.test/cp.js';
export const TRACK_URL = 'https://cdn.clickport.test/api/track';
export const SESSION_ID = 4242;

const TRACKER = readFileSync(new URL('../dist/cp.min.js', import.meta.url));

const serveTracker = requestInterceptor((request) => {
  if (request.url === SCRIPT_URL) return new Response(TRACKER, { headers: { 'Content-Type': 'text/javascript' } });
  return new Response('', { status: 404 }); // the tests never reach the network
});

/**
 * Open `url` with the tracker installed by `<script defer … src=SCRIPT_URL>` carrying `attributes`.
 * `head` is extra markup before the tracker (e.g. the queue snippet), `body` the page content.
 * `setup(window)` runs before the page is parsed (stub navigator.webdriver, pre-fill storage, …).
 */
export async function openPage({
  url = 'https://example.com/start',
  attributes = 'data-domain="example.com"',
  head = '',
  body = '<main>Hello</main>',
  referrer,
  setup = () => {},
} = {}) {
  const requests = []; // everything sent through fetch, in order
  const beacons = []; // everything sent through navigator.sendBeacon, in order
  const errors = [];
  const layout = { height: 4000, viewport: 1000 };
  const clock = { now: 1_700_000_000_000 };
  const resizeObservers = [];
  let pageVisits = 0;

  const virtualConsole = new VirtualConsole();
  virtualConsole.on('jsdomError', (error) => {
    if (error.type !== 'not-implemented') errors.push(error); // jsdom does not navigate; that is fine here
  });

  const dom = new JSDOM(
    `<!doctype html><html><head>${head}<script defer ${attributes} src="${SCRIPT_URL}"></script></head>` +
      `<body>${body}</body></html>`,
    {
      url,
      referrer,
      runScripts: 'dangerously',
      resources: { interceptors: [serveTracker] },
      pretendToBeVisual: true,
      virtualConsole,
      beforeParse(window) {
        window.Date.now = () => clock.now;
        window.innerHeight = layout.viewport;
        Object.defineProperty(window.Element.prototype, 'scrollHeight', {
          configurable: true,
          get() {
            return this.localName === 'html' ? layout.height : 0;
          },
        });
        window.ResizeObserver = class {
          constructor(callback) {
            resizeObservers.push(callback);
          }
          observe() {}
        };
        window.fetch = async (target, init) => {
          const sent = JSON.parse(init.body);
          requests.push({ url: target, init, body: sent });
          const answer = { success: true, session_id: SESSION_ID };
          if (sent.type !== 'engagement') answer.page_visit_id = pageVisitId(sent.type === 'pageview' ? ++pageVisits : pageVisits);
          return { json: async () => answer };
        };
        window.navigator.sendBeacon = (target, data) => {
          beacons.push({ url: target, data });
          return true;
        };
        setup(window);
      },
    }
  );
  const { window } = dom;
  await new Promise((resolve) => window.addEventListener('load', resolve));
  await settle();

  return {
    window,
    document: window.document,
    requests,
    beacons,
    errors,
    layout,
    clock,
    /** Bodies sent through fetch, optionally of one type. */
    sent(type) {
      return requests.map((r) => r.body).filter((b) => !type || b.type === type);
    },
    /** Decoded beacon payloads (engagement updates). */
    async beaconBodies() {
      return Promise.all(beacons.map(async (b) => JSON.parse(await b.data.text())));
    },
    scrollTo(y) {
      window.scrollY = y;
      window.dispatchEvent(new window.Event('scroll'));
    },
    layoutChanged() {
      resizeObservers.forEach((callback) => callback([]));
    },
    setHidden(hidden) {
      Object.defineProperty(window.document, 'hidden', { configurable: true, value: hidden });
      Object.defineProperty(window.document, 'visibilityState', {
        configurable: true,
        value: hidden ? 'hidden' : 'visible',
      });
      window.document.dispatchEvent(new window.Event('visibilitychange'));
    },
    close() {
      window.close();
    },
  };
}

export function pageVisitId(n) {
  return n.toString(16).padStart(16, '0');
}

/** Let the tracker's queued requests and their answers run. */
export async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
