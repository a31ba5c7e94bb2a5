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
    AND dt BETWEEN '2025-03-30' AND '2026-03-31'
    AND ts >= CAST('2025-03-31 18:30:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 10:30:16.000' AS TIMESTAMP)
), counted AS (
  SELECT
    ev.session_id,
    ev.visitor_id,
    CASE
      WHEN ev.ts < CAST('2025-04-30 18:30:00.000' AS TIMESTAMP)
      THEN 24303
      WHEN ev.ts < CAST('2025-05-31 18:30:00.000' AS TIMESTAMP)
      THEN 24304
      WHEN ev.ts < CAST('2025-06-30 18:30:00.000' AS TIMESTAMP)
      THEN 24305
      WHEN ev.ts < CAST('2025-07-31 18:30:00.000' AS TIMESTAMP)
      THEN 24306
      WHEN ev.ts < CAST('2025-08-31 18:30:00.000' AS TIMESTAMP)
      THEN 24307
      WHEN ev.ts < CAST('2025-09-30 18:30:00.000' AS TIMESTAMP)
      THEN 24308
      WHEN ev.ts < CAST('2025-10-31 18:30:00.000' AS TIMESTAMP)
      THEN 24309
      WHEN ev.ts < CAST('2025-11-30 18:30:00.000' AS TIMESTAMP)
      THEN 24310
      WHEN ev.ts < CAST('2025-12-31 18:30:00.000' AS TIMESTAMP)
      THEN 24311
      WHEN ev.ts < CAST('2026-01-31 18:30:00.000' AS TIMESTAMP)
      THEN 24312
      WHEN ev.ts < CAST('2026-02-28 18:30:00.000' AS TIMESTAMP)
      THEN 24313
      ELSE 24314
    END AS d0,
    ev.type
  FROM events_in_range AS ev
  WHERE
    ev.type IN ('pageview', 'custom', 'click', 'form')
), visitor_groups AS (
  SELECT
    ev.d0,
    ev.visitor_id
  FROM counted AS ev
  GROUP BY
    ev.d0,
    ev.visitor_id
), groups AS (
  SELECT
    0 AS period,
    d0,
    COALESCE(COUNT(*), 0) AS visitors
  FROM visitor_groups
  GROUP BY
    d0
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.visitors
  FROM groups AS t
)
SELECT
  period,
  d0,
  visitors
FROM grouped
ORDER BY
  period,
  d0
