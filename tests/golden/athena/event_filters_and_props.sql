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
), ranked_events AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY period, session_id ORDER BY ts, seq) AS first_rank,
    ROW_NUMBER() OVER (PARTITION BY period, session_id, type ORDER BY ts, seq) AS entry_rank,
    ROW_NUMBER() OVER (PARTITION BY period, session_id, type ORDER BY ts DESC, seq DESC) AS exit_rank
  FROM events_in_range
), session_events AS (
  SELECT
    *,
    MAX(CASE WHEN first_rank = 1 THEN visitor_id END) OVER (PARTITION BY period, session_id) AS session_visitor_id,
    SUM(CASE WHEN type IN ('pageview', 'custom', 'click', 'form') THEN 1 ELSE 0 END) OVER (PARTITION BY period, session_id) AS session_countable,
    MAX(CASE WHEN type = 'pageview' AND exit_rank = 1 THEN path END) OVER (PARTITION BY period, session_id) AS session_exit_page
  FROM ranked_events
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.session_visitor_id AS visitor_id,
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
    DATE_FORMAT(DATE_TRUNC('week', AT_TIMEZONE(ev.ts, 'UTC')), '%Y-%m-%d') AS d2,
    CASE WHEN ev.type = 'click' THEN 1 ELSE 0 END AS is_click
  FROM session_events AS ev
  WHERE
    ev.session_countable > 0
    AND ev.type IN ('pageview', 'custom', 'click', 'form')
    AND NOT (
      (
        STRPOS(LOWER(COALESCE(NULLIF(ev.path, ''), '(none)')), LOWER('/admin')) > 0
        OR STRPOS(LOWER(COALESCE(NULLIF(ev.path, ''), '(none)')), LOWER('/Intern')) > 0
      )
    )
    AND REGEXP_LIKE(COALESCE(NULLIF(ev.hostname, ''), '(none)'), '^(www\.)?example\.com$')
    AND NOT (
      COALESCE(NULLIF(ev.session_exit_page, ''), '(none)') IN ('/checkout')
    )
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
), per_session AS (
  SELECT
    period,
    d0,
    d1,
    d2,
    session_id,
    MAX(visitor_id) AS visitor_id,
    COUNT(*) AS events,
    MAX(is_click) AS clicked
  FROM counted
  GROUP BY
    period,
    d0,
    d1,
    d2,
    session_id
), totals AS (
  SELECT
    period,
    d0,
    d1,
    d2,
    COALESCE(SUM(events), 0) AS events,
    COALESCE(SUM(clicked), 0) AS clickers
  FROM per_session
  GROUP BY
    period,
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
  FROM totals AS t
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
