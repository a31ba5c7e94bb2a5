WITH events_in_range AS (
  SELECT
    0 AS period,
    ts,
    seq,
    type,
    session_id,
    visitor_id
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-03-29' AND '2026-03-31'
    AND ts >= CAST('2026-03-30 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
), ranked_events AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY period, session_id ORDER BY ts, seq) AS first_rank
  FROM events_in_range
), session_events AS (
  SELECT
    *,
    MAX(CASE WHEN first_rank = 1 THEN visitor_id END) OVER (PARTITION BY period, session_id) AS session_visitor_id,
    SUM(CASE WHEN type IN ('pageview', 'custom', 'click', 'form') THEN 1 ELSE 0 END) OVER (PARTITION BY period, session_id) AS session_countable
  FROM ranked_events
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.session_visitor_id AS visitor_id
  FROM session_events AS ev
  WHERE
    ev.session_countable > 0 AND ev.type IN ('pageview', 'custom', 'click', 'form')
), per_session AS (
  SELECT
    period,
    session_id,
    MAX(visitor_id) AS visitor_id,
    COUNT(*) AS events
  FROM counted
  GROUP BY
    period,
    session_id
), totals AS (
  SELECT
    period,
    COALESCE(COUNT(DISTINCT visitor_id), 0) AS visitors
  FROM per_session
  GROUP BY
    period
), grouped AS (
  SELECT
    t.period,
    t.visitors
  FROM totals AS t
)
SELECT
  period,
  visitors
FROM grouped
ORDER BY
  period
