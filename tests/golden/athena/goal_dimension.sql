WITH events_in_range AS (
  SELECT
    0 AS period,
    ts,
    type,
    name,
    path,
    session_id,
    visitor_id,
    country,
    revenue_micros,
    revenue_currency,
    meta_keys,
    meta_values
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-03-23' AND '2026-03-31'
    AND ts >= CAST('2026-03-24 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
), goal_list AS (
  SELECT
    goal_id,
    goal_name
  FROM (VALUES
    (1, 'Thanks'),
    (2, 'Purchase'),
    (3, 'Pro plan'),
    (4, 'Partner'),
    (5, 'Contact')) AS v(goal_id, goal_name)
), counted AS (
  SELECT
    ev.session_id,
    ev.visitor_id,
    g.goal_name AS d0,
    COALESCE(NULLIF(ev.country, ''), '(none)') AS d1,
    ev.type,
    1 AS converts,
    ev.revenue_micros,
    COALESCE(ev.revenue_currency, 'USD') AS revenue_currency
  FROM events_in_range AS ev
  JOIN goal_list AS g
    ON (
      g.goal_id = 1
      AND COALESCE((
        ev.type = 'pageview' AND ev.path LIKE '/thank-you%' ESCAPE '\'
      ), FALSE)
      OR g.goal_id = 2
      AND COALESCE((
        ev.type = 'custom' AND ev.name = 'Purchase'
      ), FALSE)
      OR g.goal_id = 3
      AND COALESCE(
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
      OR g.goal_id = 4
      AND COALESCE(
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
      OR g.goal_id = 5
      AND COALESCE(
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
  WHERE
    ev.type IN ('pageview', 'custom', 'click', 'form')
), visitor_groups AS (
  SELECT
    ev.d0,
    ev.d1,
    ev.visitor_id,
    COUNT_IF(ev.converts = 1) AS conversions,
    COUNT_IF(ev.converts = 1) AS converting_visitors
  FROM counted AS ev
  GROUP BY
    ev.d0,
    ev.d1,
    ev.visitor_id
), groups AS (
  SELECT
    0 AS period,
    d0,
    d1,
    COALESCE(COUNT(*), 0) AS visitors,
    COALESCE(SUM(conversions), 0) AS conversions,
    COALESCE(COUNT_IF(converting_visitors > 0), 0) AS converting_visitors
  FROM visitor_groups
  GROUP BY
    d0,
    d1
), revenue_sums AS (
  SELECT
    d0,
    d1,
    revenue_currency,
    SUM(CAST(revenue_micros AS DECIMAL(38, 0))) AS micros
  FROM counted
  WHERE
    converts = 1 AND NOT revenue_micros IS NULL
  GROUP BY
    d0,
    d1,
    revenue_currency
), revenue_text AS (
  SELECT
    0 AS period,
    d0,
    d1,
    ARRAY_JOIN(ARRAY_AGG(revenue_currency || ':' || CAST(micros AS VARCHAR)), ',') AS revenue
  FROM revenue_sums
  GROUP BY
    d0,
    d1
), base_events_in_range AS (
  SELECT
    0 AS period,
    ts,
    type,
    session_id,
    visitor_id,
    country
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-03-23' AND '2026-03-31'
    AND ts >= CAST('2026-03-24 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
), base_sessions AS (
  SELECT
    ev.session_id,
    MIN_BY(ev.visitor_id, ev.ts) AS visitor_id,
    MIN_BY(COALESCE(NULLIF(ev.country, ''), '(none)'), ev.ts) AS d1,
    COUNT_IF(ev.type IN ('pageview', 'custom', 'click', 'form')) AS counted
  FROM base_events_in_range AS ev
  GROUP BY
    ev.session_id
), base_groups AS (
  SELECT
    0 AS period,
    d1,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors
  FROM base_sessions
  WHERE
    counted > 0
  GROUP BY
    d1
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.d1,
    t.visitors,
    t.conversions,
    t.converting_visitors,
    COALESCE(b.visitors, 0) AS conversion_base,
    r.revenue AS revenue
  FROM groups AS t
  LEFT JOIN base_groups AS b
    ON t.period = b.period AND t.d1 = b.d1
  LEFT JOIN revenue_text AS r
    ON t.period = r.period AND t.d0 = r.d0 AND t.d1 = r.d1
), ranked_groups AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY c.visitors DESC, c.d0, c.d1) AS row_rank,
    COUNT(*) OVER () AS total_rows
  FROM grouped AS c
  WHERE
    c.period = 0
)
SELECT
  d0,
  d1,
  visitors,
  conversions,
  converting_visitors,
  conversion_base,
  revenue,
  row_rank,
  total_rows
FROM ranked_groups
WHERE
  row_rank = 1 OR (
    row_rank > 0 AND row_rank <= 100
  )
ORDER BY
  row_rank
