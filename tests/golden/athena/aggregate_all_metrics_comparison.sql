WITH events_in_range AS (
  SELECT
    CASE
      WHEN ts >= CAST('2026-02-28 23:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
      THEN 0
      ELSE 1
    END AS period,
    ts,
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
), session_events AS (
  SELECT
    *,
    CASE
      WHEN NOT page_visit_id IS NULL
      THEN MAX(CASE WHEN type = 'engagement' THEN scroll END) OVER (PARTITION BY period, page_visit_id)
    END AS updates_scroll
  FROM events_in_range
), sessions AS (
  SELECT
    ev.period,
    ev.session_id,
    MIN_BY(ev.visitor_id, ev.ts) AS visitor_id,
    COUNT_IF(ev.type IN ('pageview', 'custom', 'click', 'form')) AS counted,
    COUNT_IF(ev.type = 'pageview') AS pageviews,
    COUNT_IF(ev.type = 'click') AS clicks,
    COUNT_IF(
      (
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
    ) AS conversions,
    SUM(
      CASE
        WHEN NOT CASE
          WHEN ev.type = 'pageview'
          THEN COALESCE(GREATEST(ev.scroll, ev.updates_scroll), ev.scroll, ev.updates_scroll)
        END IS NULL
        THEN CASE
          WHEN ev.type = 'pageview'
          THEN COALESCE(GREATEST(ev.scroll, ev.updates_scroll), ev.scroll, ev.updates_scroll)
        END
      END
    ) AS scroll_sum,
    COUNT(
      CASE
        WHEN NOT CASE
          WHEN ev.type = 'pageview'
          THEN COALESCE(GREATEST(ev.scroll, ev.updates_scroll), ev.scroll, ev.updates_scroll)
        END IS NULL
        THEN CASE
          WHEN ev.type = 'pageview'
          THEN COALESCE(GREATEST(ev.scroll, ev.updates_scroll), ev.scroll, ev.updates_scroll)
        END
      END
    ) AS scroll_count,
    COUNT_IF(ev.type = 'pageview') AS pageviews_in_range,
    DATE_DIFF('millisecond', MIN(ev.ts), MAX(ev.ts)) AS duration_ms
  FROM session_events AS ev
  GROUP BY
    ev.period,
    ev.session_id
), groups AS (
  SELECT
    period,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors,
    COALESCE(COUNT(*), 0) AS sessions,
    COALESCE(SUM(pageviews), 0) AS pageviews,
    COALESCE(SUM(counted), 0) AS events,
    COALESCE(COUNT_IF(pageviews_in_range >= 1), 0) AS bounce_base,
    COALESCE(COUNT_IF(pageviews_in_range = 1), 0) AS bounces,
    COALESCE(SUM(duration_ms), 0) AS duration_ms,
    COALESCE(SUM(scroll_sum), 0) AS scroll_sum,
    COALESCE(SUM(scroll_count), 0) AS scroll_count,
    COALESCE(COUNT_IF(clicks >= 1), 0) AS clickers,
    COALESCE(SUM(conversions), 0) AS conversions,
    COALESCE(COUNT(DISTINCT CASE WHEN conversions >= 1 THEN visitor_id END), 0) AS converting_visitors
  FROM sessions
  WHERE
    counted > 0
  GROUP BY
    period
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.visitor_id,
    ev.type,
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
    ev.revenue_micros,
    COALESCE(ev.revenue_currency, 'USD') AS revenue_currency
  FROM session_events AS ev
  WHERE
    ev.type IN ('pageview', 'custom', 'click', 'form')
), revenue_sums AS (
  SELECT
    period,
    revenue_currency,
    SUM(CAST(revenue_micros AS DECIMAL(38, 0))) AS micros
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
  FROM groups AS t
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
