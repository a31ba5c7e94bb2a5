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
    AND dt BETWEEN '2026-03-23' AND '2026-03-31'
    AND ts >= CAST('2026-03-24 00:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
), counted AS (
  SELECT
    ev.session_id,
    ev.visitor_id,
    (
      (
        DATE_DIFF('millisecond', CAST('1970-01-01 00:00:00.000' AS TIMESTAMP), ev.ts) + (
          6311952000000
        )
      ) / 86400000
    ) AS d0,
    ev.type
  FROM events_in_range AS ev
  WHERE
    ev.type IN ('pageview', 'custom', 'click', 'form')
), visitor_groups AS (
  SELECT
    ev.d0,
    ev.visitor_id,
    COUNT_IF(ev.type = 'pageview') AS pageviews
  FROM counted AS ev
  GROUP BY
    ev.d0,
    ev.visitor_id
), groups AS (
  SELECT
    0 AS period,
    d0,
    COALESCE(COUNT(*), 0) AS visitors,
    COALESCE(SUM(pageviews), 0) AS pageviews
  FROM visitor_groups
  GROUP BY
    d0
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.visitors,
    t.pageviews
  FROM groups AS t
)
SELECT
  period,
  d0,
  visitors,
  pageviews
FROM grouped
ORDER BY
  period,
  d0
