WITH events_in_range AS (
  SELECT
    0 AS period,
    ts,
    seq,
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
    MAX(CASE WHEN first_rank = 1 THEN country END) OVER (PARTITION BY period, session_id) AS session_country,
    CASE
      WHEN NOT page_visit_id IS NULL
      THEN MAX(CASE WHEN type = 'engagement' THEN scroll END) OVER (PARTITION BY period, page_visit_id)
    END AS updates_scroll
  FROM ranked_events
), counted AS (
  SELECT
    ev.period,
    ev.session_id,
    ev.session_visitor_id AS visitor_id,
    COALESCE(NULLIF(ev.path, ''), '(none)') AS d0,
    CASE WHEN ev.type = 'pageview' THEN 1 ELSE 0 END AS is_pageview,
    CASE
      WHEN ev.type = 'pageview'
      THEN COALESCE(GREATEST(ev.scroll, ev.updates_scroll), ev.scroll, ev.updates_scroll)
    END AS visit_scroll
  FROM session_events AS ev
  WHERE
    ev.session_countable > 0
    AND ev.type IN ('pageview', 'custom', 'click', 'form')
    AND COALESCE(NULLIF(ev.session_country, ''), '(none)') IN ('DE')
), per_session AS (
  SELECT
    period,
    d0,
    session_id,
    MAX(visitor_id) AS visitor_id,
    COUNT(*) AS events,
    SUM(is_pageview) AS pageviews,
    SUM(visit_scroll) AS scroll_sum,
    COUNT(visit_scroll) AS scroll_count
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
    COALESCE(SUM(pageviews), 0) AS pageviews,
    COALESCE(SUM(scroll_sum), 0) AS scroll_sum,
    COALESCE(SUM(scroll_count), 0) AS scroll_count
  FROM per_session
  GROUP BY
    period,
    d0
), grouped AS (
  SELECT
    t.period,
    t.d0,
    t.visitors,
    t.pageviews,
    t.scroll_sum,
    t.scroll_count
  FROM totals AS t
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
