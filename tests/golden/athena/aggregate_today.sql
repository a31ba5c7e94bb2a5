WITH events_in_range AS (
  SELECT
    0 AS period,
    ts,
    type,
    session_id,
    visitor_id
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-03-29' AND '2026-03-31'
    AND ts >= CAST('2026-03-30 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
), sessions AS (
  SELECT
    ev.session_id,
    MIN_BY(ev.visitor_id, ev.ts) AS visitor_id,
    COUNT_IF(ev.type IN ('pageview', 'custom', 'click', 'form')) AS counted
  FROM events_in_range AS ev
  GROUP BY
    ev.session_id
), groups AS (
  SELECT
    0 AS period,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors
  FROM sessions
  WHERE
    counted > 0
), grouped AS (
  SELECT
    t.period,
    t.visitors
  FROM groups AS t
)
SELECT
  period,
  visitors
FROM grouped
ORDER BY
  period
