WITH events_in_range AS (
  SELECT
    0 AS period,
    ts,
    type,
    path,
    session_id,
    visitor_id,
    page_visit_id,
    country,
    scroll
  FROM "clickport"."events"
  WHERE
    site_id = 'site-a'
    AND dt BETWEEN '2026-02-27' AND '2026-03-31'
    AND ts >= CAST('2026-02-28 23:00:00.000' AS TIMESTAMP)
    AND ts < CAST('2026-03-30 22:00:00.000' AS TIMESTAMP)
    AND COALESCE(NULLIF(country, ''), '(none)') IN ('DE')
), session_events AS (
  SELECT
    *,
    CASE
      WHEN NOT page_visit_id IS NULL
      THEN MAX(CASE WHEN type = 'engagement' THEN scroll END) OVER (PARTITION BY page_visit_id)
    END AS updates_scroll
  FROM events_in_range
), counted AS (
  SELECT
    ev.session_id,
    ev.visitor_id,
    COALESCE(NULLIF(ev.path, ''), '(none)') AS d0,
    ev.type,
    CASE
      WHEN ev.type = 'pageview'
      THEN COALESCE(GREATEST(ev.scroll, ev.updates_scroll), ev.scroll, ev.updates_scroll)
    END AS visit_scroll
  FROM session_events AS ev
  WHERE
    ev.type IN ('pageview', 'custom', 'click', 'form')
), visitor_groups AS (
  SELECT
    ev.d0,
    ev.visitor_id,
    COUNT_IF(ev.type = 'pageview') AS pageviews,
    SUM(ev.visit_scroll) AS scroll_sum,
    COUNT(ev.visit_scroll) AS scroll_count
  FROM counted AS ev
  GROUP BY
    ev.d0,
    ev.visitor_id
), groups AS (
  SELECT
    0 AS period,
    d0,
    COALESCE(COUNT(*), 0) AS visitors,
    COALESCE(SUM(pageviews), 0) AS pageviews,
    COALESCE(SUM(scroll_sum), 0) AS scroll_sum,
    COALESCE(SUM(scroll_count), 0) AS scroll_count
  FROM visitor_groups
  GROUP BY
    d0
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.visitors,
    t.pageviews,
    t.scroll_sum,
    t.scroll_count
  FROM groups AS t
), ranked_groups AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY c.visitors DESC, c.d0) AS row_rank,
    COUNT(*) OVER () AS total_rows
  FROM grouped AS c
  WHERE
    c.period = 0
)
SELECT
  d0,
  visitors,
  pageviews,
  scroll_sum,
  scroll_count,
  row_rank,
  total_rows
FROM ranked_groups
WHERE
  row_rank = 1 OR (
    row_rank > 0 AND row_rank <= 10
  )
ORDER BY
  row_rank
