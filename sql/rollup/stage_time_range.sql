-- Stages the raw rows of one backfill chunk: timestamps in [:since, :until) with id <= :to_id (the
-- watermark: rows above it belong to the next incremental run, which must not find them counted).
--
-- Two temp tables, dropped at commit, so the raw rows are read twice at most and every rollup table is
-- derived from these small grouped sets:
--   rollup_stage_counts   per UTC minute, agent, endpoint, method and status: the counters
--   rollup_stage_latency  per UTC minute, agent, endpoint and method: how many rows fall in each latency
--                         bucket (rows without a response time are left out)
-- NULL agent, endpoint or method become 'unknown' and a NULL status 0, as documented in 002_rollups.sql.
-- The latency bucket is latency_bucket()'s formula written inline: the function call costs ten times
-- more per row. verify_*.sql use latency_bucket() itself, so the two can never drift apart unnoticed.
CREATE TEMP TABLE rollup_stage_counts ON COMMIT DROP AS
SELECT
    date_trunc('minute', l."timestamp", 'UTC')                              AS bucket_start,
    coalesce(l.agent_id, 'unknown')                                         AS agent_id,
    coalesce(l.endpoint, 'unknown')                                         AS endpoint,
    coalesce(l.method, 'unknown')                                           AS method,
    coalesce(l.status_code, 0)                                              AS status_code,
    count(*)                                                                AS request_count,
    count(*) FILTER (WHERE l.status_code < 400)                             AS success_count,
    count(*) FILTER (WHERE l.status_code BETWEEN 400 AND 499)               AS client_error_count,
    count(*) FILTER (WHERE l.status_code >= 500)                            AS server_error_count,
    count(l.response_time_ms)                                               AS response_time_count,
    coalesce(sum(l.response_time_ms), 0)                                    AS response_time_ms_sum,
    max(l.response_time_ms)                                                 AS response_time_ms_max,
    count(*) FILTER (WHERE l.order_id IS NOT NULL AND l.status_code < 400)  AS order_count,
    coalesce(sum(l.order_amount) FILTER (WHERE l.order_id IS NOT NULL AND l.status_code < 400), 0)
                                                                            AS revenue,
    max(l."timestamp")                                                      AS last_seen_at
FROM agent_usage_logs AS l
WHERE l."timestamp" >= :since AND l."timestamp" < :until AND l.id <= :to_id
GROUP BY 1, 2, 3, 4, 5;

CREATE TEMP TABLE rollup_stage_latency ON COMMIT DROP AS
SELECT
    date_trunc('minute', l."timestamp", 'UTC')                              AS bucket_start,
    coalesce(l.agent_id, 'unknown')                                         AS agent_id,
    coalesce(l.endpoint, 'unknown')                                         AS endpoint,
    coalesce(l.method, 'unknown')                                           AS method,
    CASE WHEN l.response_time_ms < 1 THEN 0
         ELSE 1 + ceil(ln(l.response_time_ms::double precision) / ln(1.04))::integer END
                                                                            AS latency_bucket,
    count(*)                                                                AS row_count
FROM agent_usage_logs AS l
WHERE l."timestamp" >= :since AND l."timestamp" < :until AND l.id <= :to_id
  AND l.response_time_ms IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

-- Statistics for the planner: without them it guesses the row counts of the joins in merge_*.sql
-- and can pick a nested loop that is quadratic in the number of groups.
ANALYZE rollup_stage_counts;
ANALYZE rollup_stage_latency;
