WITH events_in_range AS (
  SELECT
    CASE
      WHEN ts >= CAST('2026-03-24 00:00:00.000' AS TIMESTAMP)
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
    revenue_micros,
    revenue_currency,
    meta_keys,
    meta_values
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-03-16' AND '2026-03-31'
    AND ts >= CAST('2026-03-17 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
    AND (
      ts >= CAST('2026-03-24 00:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
      OR ts >= CAST('2026-03-17 00:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-23 10:30:16.000' AS TIMESTAMP)
    )
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.visitor_id,
    COALESCE(NULLIF(ev.path, ''), '(none)') AS d0,
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
    ev.revenue_micros,
    COALESCE(ev.revenue_currency, 'USD') AS revenue_currency
  FROM events_in_range AS ev
  WHERE
    ev.type IN ('pageview', 'custom', 'click', 'form')
), groups AS (
  SELECT
    period,
    d0,
    COALESCE(COUNT_IF(ev.converts = 1), 0) AS conversions
  FROM counted AS ev
  GROUP BY
    period,
    d0
), revenue_sums AS (
  SELECT
    period,
    d0,
    revenue_currency,
    SUM(CAST(revenue_micros AS DECIMAL(38, 0))) AS micros
  FROM counted
  WHERE
    converts = 1 AND NOT revenue_micros IS NULL
  GROUP BY
    period,
    d0,
    revenue_currency
), revenue_text AS (
  SELECT
    period,
    d0,
    ARRAY_JOIN(ARRAY_AGG(revenue_currency || ':' || CAST(micros AS VARCHAR)), ',') AS revenue,
    SUM(micros) AS revenue_micros
  FROM revenue_sums
  GROUP BY
    period,
    d0
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.conversions,
    r.revenue AS revenue,
    r.revenue_micros AS revenue_micros
  FROM groups AS t
  LEFT JOIN revenue_text AS r
    ON t.period = r.period AND t.d0 = r.d0
), paired_groups AS (
  SELECT
    d0,
    MAX(CASE WHEN period = 0 THEN conversions END) AS conversions,
    MAX(CASE WHEN period = 0 THEN revenue END) AS revenue,
    MAX(CASE WHEN period = 0 THEN revenue_micros END) AS revenue_micros,
    MAX(CASE WHEN period = 1 THEN conversions END) AS prev_conversions,
    MAX(CASE WHEN period = 1 THEN revenue END) AS prev_revenue,
    MAX(CASE WHEN period = 1 THEN revenue_micros END) AS prev_revenue_micros
  FROM grouped
  GROUP BY
    d0
  HAVING
    MAX(CASE WHEN period = 0 THEN 1 ELSE 0 END) = 1
), ranked_groups AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY COALESCE(c.revenue_micros, 0) DESC, c.d0) AS row_rank,
    COUNT(*) OVER () AS total_rows
  FROM paired_groups AS c
)
SELECT
  d0,
  conversions,
  revenue,
  revenue_micros,
  prev_conversions,
  prev_revenue,
  prev_revenue_micros,
  row_rank,
  total_rows
FROM ranked_groups
WHERE
  row_rank = 1 OR (
    row_rank > 0 AND row_rank <= 100
  )
ORDER BY
  row_rank
