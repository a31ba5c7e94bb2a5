WITH events_in_range AS (
  SELECT
    CASE
      WHEN ts >= CAST('2026-03-30 04:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
      THEN 0
      ELSE 1
    END AS period,
    ts,
    seq,
    type,
    session_id,
    visitor_id
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-03-28' AND '2026-03-31'
    AND ts >= CAST('2026-03-29 04:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
    AND (
      ts >= CAST('2026-03-30 04:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
      OR ts >= CAST('2026-03-29 04:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-29 10:30:16.000' AS TIMESTAMP)
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
    SUM(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END) OVER (PARTITION BY period, session_id) AS session_pageviews
  FROM ranked_events
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.session_visitor_id AS visitor_id,
    DATE_FORMAT(AT_TIMEZONE(ev.ts, 'America/New_York'), '%Y-%m-%d %H:00') AS d0,
    ev.session_duration_ms AS duration_ms,
    ev.session_pageviews AS pageviews_in_range
  FROM session_events AS ev
  WHERE
    ev.session_countable > 0 AND ev.type IN ('pageview', 'custom', 'click', 'form')
), per_session AS (
  SELECT
    period,
    d0,
    session_id,
    MAX(visitor_id) AS visitor_id,
    COUNT(*) AS events,
    MAX(duration_ms) AS duration_ms,
    MAX(pageviews_in_range) AS pageviews_in_range
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
    COALESCE(COUNT(*), 0) AS sessions,
    COALESCE(SUM(CASE WHEN pageviews_in_range >= 1 THEN 1 ELSE 0 END), 0) AS bounce_base,
    COALESCE(SUM(CASE WHEN pageviews_in_range = 1 THEN 1 ELSE 0 END), 0) AS bounces,
    COALESCE(SUM(duration_ms), 0) AS duration_ms
  FROM per_session
  GROUP BY
    period,
    d0
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.visitors,
    t.sessions,
    t.bounce_base,
    t.bounces,
    t.duration_ms
  FROM totals AS t
)
SELECT
  period,
  d0,
  visitors,
  sessions,
  bounce_base,
  bounces,
  duration_ms
FROM grouped
ORDER BY
  period,
  d0
