WITH events_in_range AS (
  SELECT
    CASE
      WHEN ts >= CAST('2026-03-01 00:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
      THEN 0
      ELSE 1
    END AS period,
    ts,
    seq,
    type,
    path,
    session_id,
    visitor_id,
    source
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-01-31' AND '2026-03-31'
    AND ts >= CAST('2026-02-01 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
    AND (
      ts >= CAST('2026-03-01 00:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
      OR ts >= CAST('2026-02-01 00:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-01 00:00:00.000' AS TIMESTAMP)
    )
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
    MAX(CASE WHEN first_rank = 1 THEN source END) OVER (PARTITION BY period, session_id) AS session_source,
    MAX(CASE WHEN type = 'pageview' AND entry_rank = 1 THEN path END) OVER (PARTITION BY period, session_id) AS session_entry_page,
    DATE_DIFF(
      'millisecond',
      MIN(ts) OVER (PARTITION BY period, session_id),
      MAX(ts) OVER (PARTITION BY period, session_id)
    ) AS session_duration_ms,
    SUM(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END) OVER (PARTITION BY period, session_id) AS session_pageviews
  FROM ranked_events
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.session_visitor_id AS visitor_id,
    COALESCE(NULLIF(ev.session_source, ''), 'Direct') AS d0,
    COALESCE(NULLIF(ev.session_entry_page, ''), '(none)') AS d1,
    ev.session_duration_ms AS duration_ms,
    ev.session_pageviews AS pageviews_in_range
  FROM session_events AS ev
  WHERE
    ev.session_countable > 0 AND ev.type IN ('pageview', 'custom', 'click', 'form')
), per_session AS (
  SELECT
    period,
    d0,
    d1,
    session_id,
    MAX(visitor_id) AS visitor_id,
    COUNT(*) AS events,
    MAX(duration_ms) AS duration_ms,
    MAX(pageviews_in_range) AS pageviews_in_range
  FROM counted
  GROUP BY
    period,
    d0,
    d1,
    session_id
), totals AS (
  SELECT
    period,
    d0,
    d1,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors,
    COALESCE(COUNT(*), 0) AS sessions,
    COALESCE(SUM(CASE WHEN pageviews_in_range >= 1 THEN 1 ELSE 0 END), 0) AS bounce_base,
    COALESCE(SUM(CASE WHEN pageviews_in_range = 1 THEN 1 ELSE 0 END), 0) AS bounces,
    COALESCE(SUM(duration_ms), 0) AS duration_ms
  FROM per_session
  GROUP BY
    period,
    d0,
    d1
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.d1,
    t.visitors,
    t.sessions,
    t.bounce_base,
    t.bounces,
    t.duration_ms
  FROM totals AS t
), paired_groups AS (
  SELECT
    d0,
    d1,
    MAX(CASE WHEN period = 0 THEN visitors END) AS visitors,
    MAX(CASE WHEN period = 0 THEN sessions END) AS sessions,
    MAX(CASE WHEN period = 0 THEN bounce_base END) AS bounce_base,
    MAX(CASE WHEN period = 0 THEN bounces END) AS bounces,
    MAX(CASE WHEN period = 0 THEN duration_ms END) AS duration_ms,
    MAX(CASE WHEN period = 1 THEN visitors END) AS prev_visitors,
    MAX(CASE WHEN period = 1 THEN sessions END) AS prev_sessions,
    MAX(CASE WHEN period = 1 THEN bounce_base END) AS prev_bounce_base,
    MAX(CASE WHEN period = 1 THEN bounces END) AS prev_bounces,
    MAX(CASE WHEN period = 1 THEN duration_ms END) AS prev_duration_ms
  FROM grouped
  GROUP BY
    d0,
    d1
  HAVING
    MAX(CASE WHEN period = 0 THEN 1 ELSE 0 END) = 1
), ranked_groups AS (
  SELECT
    *,
    ROW_NUMBER() OVER (
      ORDER BY CASE
        WHEN c.bounce_base = 0
        THEN 0
        ELSE CAST(c.bounces AS DOUBLE) / CAST(c.bounce_base AS DOUBLE)
      END ASC, c.d0, c.d1
    ) AS row_rank,
    COUNT(*) OVER () AS total_rows
  FROM paired_groups AS c
)
SELECT
  d0,
  d1,
  visitors,
  sessions,
  bounce_base,
  bounces,
  duration_ms,
  prev_visitors,
  prev_sessions,
  prev_bounce_base,
  prev_bounces,
  prev_duration_ms,
  row_rank,
  total_rows
FROM ranked_groups
WHERE
  row_rank = 1 OR (
    row_rank > 20 AND row_rank <= 30
  )
ORDER BY
  row_rank
