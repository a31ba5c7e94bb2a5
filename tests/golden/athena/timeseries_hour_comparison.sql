WITH events_in_range AS (
  SELECT
    CASE
      WHEN ts >= CAST('2026-03-30 04:00:00.000' AS TIMESTAMP)
      AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
      THEN 0
      ELSE 1
    END AS period,
    ts,
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
), session_events AS (
  SELECT
    *,
    DATE_DIFF(
      'millisecond',
      MIN(ts) OVER (PARTITION BY period, session_id),
      MAX(ts) OVER (PARTITION BY period, session_id)
    ) AS session_duration_ms,
    SUM(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END) OVER (PARTITION BY period, session_id) AS session_pageviews
  FROM events_in_range
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.visitor_id,
    (
      (
        DATE_DIFF('millisecond', CAST('1970-01-01 00:00:00.000' AS TIMESTAMP), ev.ts) + (
          6311937600000
        )
      ) / 3600000
    ) AS d0,
    ev.type,
    ev.session_pageviews,
    ev.session_duration_ms
  FROM session_events AS ev
  WHERE
    ev.type IN ('pageview', 'custom', 'click', 'form')
), session_groups AS (
  SELECT
    ev.period,
    ev.d0,
    ev.session_id,
    MAX(ev.visitor_id) AS visitor_id,
    COUNT(*) AS counted,
    MAX(ev.session_pageviews) AS pageviews_in_range,
    MAX(ev.session_duration_ms) AS duration_ms
  FROM counted AS ev
  GROUP BY
    ev.period,
    ev.d0,
    ev.session_id
), visitor_groups AS (
  SELECT
    ev.period,
    ev.d0,
    ev.visitor_id,
    COUNT(*) AS sessions,
    COUNT_IF(pageviews_in_range >= 1) AS bounce_base,
    COUNT_IF(pageviews_in_range = 1) AS bounces,
    SUM(duration_ms) AS duration_ms
  FROM session_groups AS ev
  GROUP BY
    ev.period,
    ev.d0,
    ev.visitor_id
), groups AS (
  SELECT
    period,
    d0,
    COALESCE(COUNT(*), 0) AS visitors,
    COALESCE(SUM(sessions), 0) AS sessions,
    COALESCE(SUM(bounce_base), 0) AS bounce_base,
    COALESCE(SUM(bounces), 0) AS bounces,
    COALESCE(SUM(duration_ms), 0) AS duration_ms
  FROM visitor_groups
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
  FROM groups AS t
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
