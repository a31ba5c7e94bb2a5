WITH events_in_range AS (
  SELECT
    CASE
      WHEN ts >= CAST('2026-02-28 23:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
      THEN 0
      ELSE 1
    END AS period,
    ts,
    seq,
    type,
    name,
    path,
    session_id,
    visitor_id,
    page_visit_id,
    scroll,
    revenue_micros,
    revenue_currency,
    meta_keys,
    meta_values
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-01-28' AND '2026-03-31'
    AND ts >= CAST('2026-01-29 23:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
    AND (
      ts >= CAST('2026-02-28 23:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
      OR ts >= CAST('2026-01-29 23:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-02-28 10:30:16.000' AS TIMESTAMP)
    )
), ranked_events AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY period, session_id ORDER BY ts, seq) AS first_rank
  FROM events_in_range
), session_events AS (
  SELECT
    *,
    MAX(CASE WHEN first_rank = 1 THEN visitor_id END) OVER (PARTITION BY period, session_id) AS session_visitor_id,
    SUM(CASE WHEN type IN ('pageview', 'custom', 'click', 'form') THEN 1 ELSE 0 END) OVER (PARTITION BY period, session_id) AS session_countable,
    DATE_DIFF(
      'millisecond',
      MIN(ts) OVER (PARTITION BY period, session_id),
      MAX(ts) OVER (PARTITION BY period, session_id)
    ) AS session_duration_ms,
    SUM(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END) OVER (PARTITION BY period, session_id) AS session_pageviews,
    CASE
      WHEN NOT page_visit_id IS NULL
      THEN MAX(CASE WHEN type = 'engagement' THEN scroll END) OVER (PARTITION BY period, page_visit_id)
    END AS updates_scroll
  FROM ranked_events
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.session_visitor_id AS visitor_id,
    CASE WHEN ev.type = 'pageview' THEN 1 ELSE 0 END AS is_pageview,
    CASE WHEN ev.type = 'click' THEN 1 ELSE 0 END AS is_click,
    CASE
      WHEN (
        COALESCE((
          ev.type = 'pageview' AND ev.path LIKE '/thank-you%' ESCAPE '\'
        ), FALSE)
        OR COALESCE((
          ev.type = 'custom' AND ev.name = 'Purchase'
        ), FALSE)
        OR COALESCE(
          (
            ev.type = 'custom'
            AND ev.name = 'Signup'
            AND CASE
              WHEN CONTAINS(ev.meta_keys, 'plan')
              THEN ELEMENT_AT(ev.meta_values, ARRAY_POSITION(ev.meta_keys, 'plan'))
            END = 'pro'
          ),
          FALSE
        )
        OR COALESCE(
          (
            ev.type = 'click'
            AND REGEXP_REPLACE(
              LOWER(
                COALESCE(
                  REGEXP_EXTRACT(
                    CASE
                      WHEN CONTAINS(ev.meta_keys, 'click_url')
                      THEN ELEMENT_AT(ev.meta_values, ARRAY_POSITION(ev.meta_keys, 'click_url'))
                    END,
                    '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#]*@)?([^/?#:@]*)',
                    1
                  ),
                  ''
                )
              ),
              '^www\.',
              ''
            ) = 'partner.example.com'
          ),
          FALSE
        )
        OR COALESCE(
          (
            ev.type = 'form'
            AND CASE
              WHEN CONTAINS(ev.meta_keys, 'form_id')
              THEN ELEMENT_AT(ev.meta_values, ARRAY_POSITION(ev.meta_keys, 'form_id'))
            END = 'contact'
          ),
          FALSE
        )
      )
      THEN 1
      ELSE 0
    END AS converts,
    CASE
      WHEN ev.type = 'pageview'
      THEN COALESCE(GREATEST(ev.scroll, ev.updates_scroll), ev.scroll, ev.updates_scroll)
    END AS visit_scroll,
    ev.revenue_micros AS revenue_micros,
    COALESCE(ev.revenue_currency, 'USD') AS revenue_currency,
    ev.session_duration_ms AS duration_ms,
    ev.session_pageviews AS pageviews_in_range
  FROM session_events AS ev
  WHERE
    ev.session_countable > 0 AND ev.type IN ('pageview', 'custom', 'click', 'form')
), per_session AS (
  SELECT
    period,
    session_id,
    MAX(visitor_id) AS visitor_id,
    COUNT(*) AS events,
    SUM(is_pageview) AS pageviews,
    MAX(is_click) AS clicked,
    SUM(converts) AS conversions,
    MAX(converts) AS converted,
    SUM(visit_scroll) AS scroll_sum,
    COUNT(visit_scroll) AS scroll_count,
    MAX(duration_ms) AS duration_ms,
    MAX(pageviews_in_range) AS pageviews_in_range
  FROM counted
  GROUP BY
    period,
    session_id
), totals AS (
  SELECT
    period,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors,
    COALESCE(COUNT(*), 0) AS sessions,
    COALESCE(SUM(pageviews), 0) AS pageviews,
    COALESCE(SUM(events), 0) AS events,
    COALESCE(SUM(CASE WHEN pageviews_in_range >= 1 THEN 1 ELSE 0 END), 0) AS bounce_base,
    COALESCE(SUM(CASE WHEN pageviews_in_range = 1 THEN 1 ELSE 0 END), 0) AS bounces,
    COALESCE(SUM(duration_ms), 0) AS duration_ms,
    COALESCE(SUM(scroll_sum), 0) AS scroll_sum,
    COALESCE(SUM(scroll_count), 0) AS scroll_count,
    COALESCE(SUM(clicked), 0) AS clickers,
    COALESCE(SUM(conversions), 0) AS conversions,
    COALESCE(COUNT(DISTINCT CASE WHEN converted = 1 THEN visitor_id END), 0) AS converting_visitors
  FROM per_session
  GROUP BY
    period
), revenue_sums AS (
  SELECT
    period,
    revenue_currency,
    SUM(revenue_micros) AS micros
  FROM counted
  WHERE
    converts = 1 AND NOT revenue_micros IS NULL
  GROUP BY
    period,
    revenue_currency
), revenue_text AS (
  SELECT
    period,
    ARRAY_JOIN(ARRAY_AGG(revenue_currency || ':' || CAST(micros AS VARCHAR)), ',') AS revenue
  FROM revenue_sums
  GROUP BY
    period
), grouped AS (
  SELECT
    t.period,
    t.visitors,
    t.sessions,
    t.pageviews,
    t.events,
    t.bounce_base,
    t.bounces,
    t.duration_ms,
    t.scroll_sum,
    t.scroll_count,
    t.clickers,
    t.conversions,
    t.converting_visitors,
    t.visitors AS conversion_base,
    r.revenue AS revenue
  FROM totals AS t
  LEFT JOIN revenue_text AS r
    ON t.period = r.period
)
SELECT
  period,
  visitors,
  sessions,
  pageviews,
  events,
  bounce_base,
  bounces,
  duration_ms,
  scroll_sum,
  scroll_count,
  clickers,
  conversions,
  converting_visitors,
  conversion_base,
  revenue
FROM grouped
ORDER BY
  period
