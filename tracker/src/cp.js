/* Clickport browser tracker: pageviews (SPA too), engagement, outbound clicks, forms and custom events. */
((w, d, loc, nav) => {
  var script = d.currentScript || d.querySelector('script[data-domain]');
  var attr = (name) => script.getAttribute('data-' + name);
  var sessionId, optedOut;
  try {
    sessionId = sessionStorage.cp_sid;
    optedOut = localStorage.cp_ignore == 'true';
  } catch {} // storage can be blocked; the tracker then works without it
  var queued = (w.clickport || {}).q || [];
  var domain = attr('domain');
  var endpoint = attr('api') || new URL(script.src).origin + '/api/track';
  var hashMode = attr('hash') != null;
  var disabled =
    nav.webdriver ||
    optedOut ||
    (/^(localhost|127(\.\d+){3}|\[::1\])$/.test(loc.hostname) && attr('allow-localhost') == null);

  if ((w.clickport || {}).track) return; // loaded twice

  var chain = Promise.resolve(); // requests go one at a time, so each carries the latest session id
  var lastPage, visitId, visitUrl, maxScroll, visibleMs, visibleSince, sentScroll, sentMs;

  var event = (type, fields) => ({ type: type, url: loc.href, domain: domain, ...fields });

  var props = (object) => {
    var keys = Object.keys(object || {}).filter((key) => object[key] != null);
    return keys.length ? { meta_keys: keys, meta_values: keys.map((key) => '' + object[key]) } : {};
  };

  var post = (body) =>
    fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit' });

  var send = (body, onAnswer) => {
    chain = chain
      .then(() => {
        if (sessionId) body.session_id = +sessionId;
        return post(JSON.stringify(body))
          .then((response) => response.json())
          .then((answer) => {
            if (answer.session_id) {
              sessionId = '' + answer.session_id;
              try {
                sessionStorage.cp_sid = sessionId;
              } catch {}
            }
            if (onAnswer) onAnswer(answer);
          });
      })
      .catch(() => {});
  };

  var engagedMs = () => visibleMs + (visibleSince && Date.now() - visibleSince);
  var resume = () => {
    if (!visibleSince && !d.hidden) visibleSince = Date.now();
  };
  var pause = () => {
    visibleMs = engagedMs();
    visibleSince = 0;
  };
  var measure = () => {
    var root = d.documentElement;
    var height = Math.max(root.scrollHeight, (d.body || root).scrollHeight);
    var depth = Math.min(100, Math.round(((w.scrollY + w.innerHeight) / height) * 100)) || 0;
    maxScroll = Math.max(maxScroll, depth);
  };

  var engagement = () => {
    var ms = engagedMs();
    if (visitId && (ms > sentMs || maxScroll > sentScroll)) {
      sentMs = ms;
      sentScroll = maxScroll;
      var body = JSON.stringify(
        event('engagement', {
          url: visitUrl,
          session_id: +sessionId,
          page_visit_id: visitId,
          scroll: maxScroll,
          engaged_ms: ms,
        })
      );
      // text/plain keeps the beacon a CORS "simple" request: no preflight
      (nav.sendBeacon && nav.sendBeacon(endpoint, new Blob([body], { type: 'text/plain' }))) ||
        post(body).catch(() => {});
    }
  };

  var pageview = () => {
    var page = loc.pathname + (hashMode ? loc.hash : '');
    if (page == lastPage) return;
    lastPage = page;
    engagement(); // closes the previous page visit of an SPA
    visitId = visibleMs = visibleSince = maxScroll = sentScroll = sentMs = 0;
    visitUrl = loc.href;
    measure();
    resume();
    send(event('pageview', { referrer: d.referrer || undefined, screen_width: w.innerWidth }), (answer) => {
      visitId = answer.page_visit_id;
    });
  };

  var custom = (name, properties, revenue) => {
    var body = event('custom', { name: '' + name, ...props(properties) });
    if (revenue && revenue.amount != null) {
      body.revenue_amount = +revenue.amount;
      body.revenue_currency = (revenue.currency || 'USD').toUpperCase();
    }
    send(body);
  };

  var clicked = (e) => {
    var link = e.target.closest && e.target.closest('a[href]');
    if (link && /^https?:$/.test(link.protocol) && link.host != loc.host && (e.type == 'click' || e.button == 1)) {
      var text = (link.innerText || link.textContent || '').replace(/\s+/g, ' ').trim();
      send(event('click', props({ click_url: link.href, click_text: Array.from(text).slice(0, 200).join('') })));
    }
  };

  var on = (target, type, listener) => target.addEventListener(type, listener);

  var clickport = (w.clickport = (name, properties, revenue) => {
    if (!disabled) custom(name, properties, revenue);
  });
  clickport.track = clickport;
  if (disabled) return;

  ['pushState', 'replaceState'].forEach((method) => {
    var original = history[method];
    history[method] = function () {
      original.apply(this, arguments);
      pageview();
    };
  });
  on(w, 'popstate', pageview);
  if (hashMode) on(w, 'hashchange', pageview);

  on(d, 'visibilitychange', () => (d.hidden ? (pause(), engagement()) : resume()));
  on(w, 'pagehide', () => (pause(), engagement()));
  on(w, 'blur', pause);
  on(w, 'focus', resume);
  on(w, 'scroll', measure);
  on(w, 'resize', measure);
  if (w.ResizeObserver && d.body) new ResizeObserver(measure).observe(d.body);

  on(d, 'click', clicked);
  on(d, 'auxclick', clicked);
  on(d, 'submit', (e) => {
    send(event('form', props({ form_id: e.target.getAttribute('id'), form_name: e.target.getAttribute('name') })));
  });

  pageview();
  queued.forEach((args) => clickport.apply(w, args));
})(window, document, location, navigator);
