/* Outbound clicks, form submissions, custom events with revenue, and the queue of early calls. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, settle, SESSION_ID } from './harness.js';

const LINKS = `
  <a id="out" href="https://partner.example.org/offer?x=1"><span>Our</span>
     partner</a>
  <a id="long" href="http://elsewhere.example.net/">${'😀'.repeat(150)}${'x'.repeat(100)}</a>
  <a id="internal" href="/pricing">Pricing</a>
  <a id="mail" href="mailto:hi@example.com">Mail</a>`;

function click(page, id, init = {}) {
  const link = page.document.getElementById(id);
  link.addEventListener('click', (e) => e.preventDefault(), { once: true }); // stay on the page
  link.dispatchEvent(new page.window.MouseEvent(init.type || 'click', { bubbles: true, cancelable: true, ...init }));
}

test('an outbound link click sends its url and text', async () => {
  const page = await openPage({ body: LINKS });
  click(page, 'out');
  await settle();
  assert.deepEqual(page.sent('click'), [
    {
      type: 'click',
      url: 'https://example.com/start',
      domain: 'example.com',
      meta_keys: ['click_url', 'click_text'],
      meta_values: ['https://partner.example.org/offer?x=1', 'Our partner'],
      session_id: SESSION_ID,
    },
  ]);
});

test('a click on an element inside the link counts', async () => {
  const page = await openPage({ body: LINKS });
  const span = page.document.querySelector('#out span');
  page.document.getElementById('out').addEventListener('click', (e) => e.preventDefault());
  span.dispatchEvent(new page.window.MouseEvent('click', { bubbles: true, cancelable: true }));
  await settle();
  assert.equal(page.sent('click').length, 1);
});

test('link text is cut to 200 characters, never inside a character', async () => {
  const page = await openPage({ body: LINKS });
  click(page, 'long');
  await settle();
  const [, text] = page.sent('click')[0].meta_values;
  assert.equal(Array.from(text).length, 200);
  assert.equal(text, '😀'.repeat(150) + 'x'.repeat(50));
});

test('internal and non-http links are not clicks', async () => {
  const page = await openPage({ body: LINKS });
  click(page, 'internal');
  click(page, 'mail');
  await settle();
  assert.deepEqual(page.sent('click'), []);
});

test('a middle click on an outbound link counts, a right click does not', async () => {
  const page = await openPage({ body: LINKS });
  click(page, 'out', { type: 'auxclick', button: 1 });
  click(page, 'out', { type: 'auxclick', button: 2 });
  await settle();
  assert.equal(page.sent('click').length, 1);
});

test('a form submission sends the form id and name that are present', async () => {
  const page = await openPage({
    body: `<form id="signup" name="newsletter"><input name="id"><button>Go</button></form>
           <form name="contact"><button>Send</button></form>
           <form><button>Bare</button></form>`,
  });
  for (const form of page.document.forms) {
    form.addEventListener('submit', (e) => e.preventDefault());
    form.requestSubmit();
  }
  await settle();
  const forms = page.sent('form');
  assert.deepEqual(
    forms.map((b) => [b.meta_keys, b.meta_values]),
    [
      [['form_id', 'form_name'], ['signup', 'newsletter']],
      [['form_name'], ['contact']],
      [undefined, undefined], // no empty lists on the wire
    ]
  );
  assert.equal(forms[0].url, 'https://example.com/start');
  assert.equal(forms[0].domain, 'example.com');
});

test('clickport.track sends a custom event with props and revenue, currency defaulting to USD', async () => {
  const page = await openPage();
  page.window.clickport.track('Purchase', { plan: 'pro', seats: 3, trial: false, none: undefined }, { amount: 49.99 });
  page.window.clickport.track('Renewal', null, { amount: '12.5', currency: 'eur' });
  page.window.clickport.track('Signup');
  await settle();
  assert.deepEqual(page.sent('custom'), [
    {
      type: 'custom',
      url: 'https://example.com/start',
      domain: 'example.com',
      name: 'Purchase',
      meta_keys: ['plan', 'seats', 'trial'],
      meta_values: ['pro', '3', 'false'],
      revenue_amount: 49.99,
      revenue_currency: 'USD',
      session_id: SESSION_ID,
    },
    {
      type: 'custom',
      url: 'https://example.com/start',
      domain: 'example.com',
      name: 'Renewal',
      revenue_amount: 12.5,
      revenue_currency: 'EUR',
      session_id: SESSION_ID,
    },
    {
      type: 'custom',
      url: 'https://example.com/start',
      domain: 'example.com',
      name: 'Signup',
      session_id: SESSION_ID,
    },
  ]);
});

test('calls queued before the script loads are replayed after the pageview, in the same session', async () => {
  const page = await openPage({
    head: `<script>
      window.clickport = window.clickport || function () { (clickport.q = clickport.q || []).push(arguments) };
      clickport('Early', { step: 1 });
      clickport('Paid', {}, { amount: 5 });
    </script>`,
  });
  await settle();
  assert.deepEqual(
    page.sent().map((b) => [b.type, b.name, b.session_id]),
    [
      ['pageview', undefined, undefined],
      ['custom', 'Early', SESSION_ID],
      ['custom', 'Paid', SESSION_ID],
    ]
  );
  assert.equal(page.sent('custom')[1].revenue_currency, 'USD');
  assert.equal(typeof page.window.clickport.track, 'function');
});
