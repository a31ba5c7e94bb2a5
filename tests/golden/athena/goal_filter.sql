WITH events_in_range AS (
  SELECT
    0 AS period,
    ts,
    seq,
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
    MAX(CASE WHEN first_rank = 1 THEN channel END) OVER (PARTITION BY period, session_id) AS session_channel
  FROM ranked_events
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.session_visitor_id AS visitor_id,
    COALESCE(NULLIF(ev.session_channel, ''), 'Direct') AS d0,
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
    END AS converts
  FROM session_events AS ev
  WHERE
    ev.session_countable > 0
    AND ev.type IN ('pageview', 'custom', 'click', 'form')
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
), per_session AS (
  SELECT
    period,
    d0,
    session_id,
    MAX(visitor_id) AS visitor_id,
    COUNT(*) AS events,
    SUM(converts) AS conversions,
    MAX(converts) AS converted
  FROM counted
  GROUP BY
    period,
    d0,
    session_id
), totals AS (
  SELECT
    period,
    d0,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors,
    COALESCE(COUNT(DISTINCT CASE WHEN converted = 1 THEN visitor_id END), 0) AS converting_visitors
  FROM per_session
  GROUP BY
    period,
    d0
), base_counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.session_visitor_id AS visitor_id,
    COALESCE(NULLIF(ev.session_channel, ''), 'Direct') AS d0
  FROM session_events AS ev
  WHERE
    ev.session_countable > 0 AND ev.type IN ('pageview', 'custom', 'click', 'form')
), base_totals AS (
  SELECT
    period,
    d0,
    COUNT(DISTINCT visitor_id) AS visitors
  FROM base_counted
  GROUP BY
    period,
    d0
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.visitors,
    t.converting_visitors,
    COALESCE(b.visitors, 0) AS conversion_base
  FROM totals AS t
  LEFT JOIN base_totals AS b
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
