WITH events_in_range AS (
  SELECT
    0 AS period,
    ts,
    seq,
    type,
    name,
    hostname,
    path,
    session_id,
    visitor_id,
    meta_keys,
    meta_values
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2025-12-30' AND '2026-03-31'
    AND ts >= CAST('2025-12-31 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
), session_events AS (
  SELECT
    *,
    MIN_BY(
      CASE WHEN type = 'pageview' THEN path END,
      ROW(CASE WHEN type = 'pageview' THEN 0 ELSE 1 END, ts, seq)
    ) OVER (PARTITION BY session_id) AS entry_page,
    MAX_BY(
      CASE WHEN type = 'pageview' THEN path END,
      ROW(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END, ts, seq)
    ) OVER (PARTITION BY session_id) AS exit_page
  FROM events_in_range
), counted AS (
  SELECT
    ev.session_id,
    ev.visitor_id,
    COALESCE(
      NULLIF(
        CASE
          WHEN ev.type = 'pageview'
          THEN 'pageview'
          WHEN ev.type = 'custom'
          THEN ev.name
          ELSE COALESCE(NULLIF(ev.name, ''), ev.type)
        END,
        ''
      ),
      '(none)'
    ) AS d0,
    COALESCE(
      NULLIF(
        CASE
          WHEN CONTAINS(ev.meta_keys, 'plan')
          THEN ELEMENT_AT(ev.meta_values, ARRAY_POSITION(ev.meta_keys, 'plan'))
        END,
        ''
      ),
      '(none)'
    ) AS d1,
    (
      (
        (
          DATE_DIFF('millisecond', CAST('1970-01-01 00:00:00.000' AS TIMESTAMP), ev.ts) + (
            6311952000000
          )
        ) / 86400000
      ) / 7
    ) AS d2,
    ev.type
  FROM session_events AS ev
  WHERE
    ev.type IN ('pageview', 'custom', 'click', 'form')
    AND NOT (
      (
        STRPOS(LOWER(COALESCE(NULLIF(ev.path, ''), '(none)')), LOWER('/admin')) > 0
        OR STRPOS(LOWER(COALESCE(NULLIF(ev.path, ''), '(none)')), LOWER('/Intern')) > 0
      )
    )
    AND REGEXP_LIKE(COALESCE(NULLIF(ev.hostname, ''), '(none)'), '\A(?:www\.)?example\.com\z')
    AND NOT (
      COALESCE(
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
    AND NOT (
      COALESCE(NULLIF(ev.exit_page, ''), '(none)') IN ('/checkout')
    )
), session_groups AS (
  SELECT
    ev.d0,
    ev.d1,
    ev.d2,
    ev.session_id,
    MAX(ev.visitor_id) AS visitor_id,
    COUNT(*) AS counted,
    COUNT_IF(ev.type = 'click') AS clicks
  FROM counted AS ev
  GROUP BY
    ev.d0,
    ev.d1,
    ev.d2,
    ev.session_id
), groups AS (
  SELECT
    0 AS period,
    d0,
    d1,
    d2,
    COALESCE(SUM(counted), 0) AS events,
    COALESCE(COUNT_IF(clicks >= 1), 0) AS clickers
  FROM session_groups
  WHERE
    counted > 0
  GROUP BY
    d0,
    d1,
    d2
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.d1,
    t.d2,
    t.events,
    t.clickers
  FROM groups AS t
)
SELECT
  period,
  d0,
  d1,
  d2,
  events,
  clickers
FROM grouped
ORDER BY
  period,
  d0,
  d1,
  d2
