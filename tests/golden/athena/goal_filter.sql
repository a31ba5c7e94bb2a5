WITH events_in_range AS (
  SELECT
    0 AS period,
    ts,
    type,
    name,
    path,
    session_id,
    visitor_id,
    channel,
    meta_keys,
    meta_values
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-03-28' AND '2026-03-31'
    AND ts >= CAST('2026-03-29 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 00:00:00.000' AS TIMESTAMP)
), sessions AS (
  SELECT
    ev.session_id,
    MIN_BY(ev.visitor_id, ev.ts) AS visitor_id,
    MIN_BY(COALESCE(NULLIF(ev.channel, ''), 'Direct'), ev.ts) AS d0,
    COUNT_IF(
      ev.type IN ('pageview', 'custom', 'click', 'form')
      AND (
        COALESCE((
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
      )
    ) AS counted,
    COUNT_IF(
      ev.type IN ('pageview', 'custom', 'click', 'form')
      AND (
        COALESCE((
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
      )
      AND (
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
    ) AS conversions
  FROM events_in_range AS ev
  GROUP BY
    ev.session_id
), groups AS (
  SELECT
    0 AS period,
    d0,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors,
    COALESCE(COUNT(DISTINCT CASE WHEN conversions >= 1 THEN visitor_id END), 0) AS converting_visitors
  FROM sessions
  WHERE
    counted > 0
  GROUP BY
    d0
), base_events_in_range AS (
  SELECT
    0 AS period,
    ts,
    type,
    session_id,
    visitor_id,
    channel
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-03-28' AND '2026-03-31'
    AND ts >= CAST('2026-03-29 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 00:00:00.000' AS TIMESTAMP)
), base_sessions AS (
  SELECT
    ev.session_id,
    MIN_BY(ev.visitor_id, ev.ts) AS visitor_id,
    MIN_BY(COALESCE(NULLIF(ev.channel, ''), 'Direct'), ev.ts) AS d0,
    COUNT_IF(ev.type IN ('pageview', 'custom', 'click', 'form')) AS counted
  FROM base_events_in_range AS ev
  GROUP BY
    ev.session_id
), base_groups AS (
  SELECT
    0 AS period,
    d0,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors
  FROM base_sessions
  WHERE
    counted > 0
  GROUP BY
    d0
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.visitors,
    t.converting_visitors,
    COALESCE(b.visitors, 0) AS conversion_base
  FROM groups AS t
  LEFT JOIN base_groups AS b
    ON t.period = b.period AND t.d0 = b.d0
), ranked_groups AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY c.visitors DESC, c.d0) AS row_rank,
    COUNT(*) OVER () AS total_rows
  FROM grouped AS c
  WHERE
    c.period = 0
)
SELECT
  d0,
  visitors,
  converting_visitors,
  conversion_base,
  row_rank,
  total_rows
FROM ranked_groups
WHERE
  row_rank = 1 OR (
    row_rank > 0 AND row_rank <= 100
  )
ORDER BY
  row_rank
