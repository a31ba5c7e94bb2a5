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
), session_events AS (
  SELECT
    *,
    MIN_BY(
      CASE WHEN type = 'pageview' THEN path END,
      ROW(CASE WHEN type = 'pageview' THEN 0 ELSE 1 END, ts, seq)
    ) OVER (PARTITION BY period, session_id) AS entry_page,
    MAX_BY(
      CASE WHEN type = 'pageview' THEN path END,
      ROW(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END, ts, seq)
    ) OVER (PARTITION BY period, session_id) AS exit_page
  FROM events_in_range
), sessions AS (
  SELECT
    ev.period,
    ev.session_id,
    MIN_BY(ev.visitor_id, ev.ts) AS visitor_id,
    MIN_BY(COALESCE(NULLIF(ev.source, ''), 'Direct'), ev.ts) AS d0,
    MIN_BY(COALESCE(NULLIF(ev.entry_page, ''), '(none)'), ev.ts) AS d1,
    COUNT_IF(ev.type IN ('pageview', 'custom', 'click', 'form')) AS counted,
    COUNT_IF(ev.type = 'pageview') AS pageviews_in_range,
    DATE_DIFF('millisecond', MIN(ev.ts), MAX(ev.ts)) AS duration_ms
  FROM session_events AS ev
  GROUP BY
    ev.period,
    ev.session_id
), groups AS (
  SELECT
    period,
    d0,
    d1,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors,
    COALESCE(COUNT(*), 0) AS sessions,
    COALESCE(COUNT_IF(pageviews_in_range >= 1), 0) AS bounce_base,
    COALESCE(COUNT_IF(pageviews_in_range = 1), 0) AS bounces,
    COALESCE(SUM(duration_ms), 0) AS duration_ms
  FROM sessions
  WHERE
    counted > 0
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
  FROM groups AS t
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
