-- verify for agent_usage_hourly_agent and agent_usage_minute_agent: every rollup row against the same
-- aggregate computed here directly from the raw rows the aggregator has processed (id <= :last_id),
-- using latency_bucket() itself. A FULL OUTER JOIN, so a rollup row without raw rows and raw rows
-- without a rollup row both show. One output row per differing column; no output = no drift.
-- Hours from :since, minutes from :minute_since (older minute rows are removed by purge), up to :until.
-- Run it in a REPEATABLE READ transaction: the watermark, rollups and raw rows then come from one
-- snapshot, so a run committing meanwhile cannot look like drift.
WITH raw AS (
    SELECT g.grain,
           date_trunc(g.grain, l."timestamp", 'UTC') AS bucket_start,
           coalesce(l.agent_id, 'unknown') AS agent_id,
           count(*) AS request_count,
           count(*) FILTER (WHERE l.status_code < 400) AS success_count,
           count(*) FILTER (WHERE l.status_code BETWEEN 400 AND 499) AS client_error_count,
           count(*) FILTER (WHERE l.status_code >= 500) AS server_error_count,
           count(l.response_time_ms) AS response_time_count,
           coalesce(sum(l.response_time_ms), 0) AS response_time_ms_sum,
           max(l.response_time_ms) AS response_time_ms_max,
           histogram_from_buckets(
               array_agg(latency_bucket(l.response_time_ms)) FILTER (WHERE l.response_time_ms IS NOT NULL),
               array_agg(1::bigint) FILTER (WHERE l.response_time_ms IS NOT NULL)) AS latency_histogram,
           count(*) FILTER (WHERE l.order_id IS NOT NULL AND l.status_code < 400) AS order_count,
           coalesce(sum(l.order_amount) FILTER (WHERE l.order_id IS NOT NULL AND l.status_code < 400), 0) AS revenue,
           max(l."timestamp") AS last_seen_at
    FROM agent_usage_logs AS l
    JOIN (VALUES ('hour', CAST(:since AS timestamptz)), ('minute', CAST(:minute_since AS timestamptz)))
        AS g (grain, since) ON l."timestamp" >= g.since
    WHERE l.id <= :last_id AND l."timestamp" < :until
    GROUP BY 1, 2, 3
), rollup AS (
    SELECT 'hour' AS grain, r.* FROM agent_usage_hourly_agent AS r
    WHERE r.bucket_start >= :since AND r.bucket_start < :until
    UNION ALL
    SELECT 'minute' AS grain, r.* FROM agent_usage_minute_agent AS r
    WHERE r.bucket_start >= :minute_since AND r.bucket_start < :until
)
SELECT CASE coalesce(r.grain, x.grain) WHEN 'hour' THEN 'agent_usage_hourly_agent'
                                       ELSE 'agent_usage_minute_agent' END AS table_name,
       coalesce(r.bucket_start, x.bucket_start) AS bucket_start,
       coalesce(r.agent_id, x.agent_id) AS key,
       d.column_name, d.rollup_value, d.raw_value
FROM rollup AS r
FULL OUTER JOIN raw AS x ON x.grain = r.grain AND x.bucket_start = r.bucket_start AND x.agent_id = r.agent_id
CROSS JOIN LATERAL (VALUES
    ('(row)', r.grain IS NULL OR x.grain IS NULL,
     CASE WHEN r.grain IS NULL THEN 'missing' ELSE 'present' END,
     CASE WHEN x.grain IS NULL THEN 'no raw rows' ELSE 'present' END),
    ('request_count', r.request_count IS DISTINCT FROM x.request_count, r.request_count::text, x.request_count::text),
    ('success_count', r.success_count IS DISTINCT FROM x.success_count, r.success_count::text, x.success_count::text),
    ('client_error_count', r.client_error_count IS DISTINCT FROM x.client_error_count, r.client_error_count::text, x.client_error_count::text),
    ('server_error_count', r.server_error_count IS DISTINCT FROM x.server_error_count, r.server_error_count::text, x.server_error_count::text),
    ('response_time_count', r.response_time_count IS DISTINCT FROM x.response_time_count, r.response_time_count::text, x.response_time_count::text),
    ('response_time_ms_sum', r.response_time_ms_sum IS DISTINCT FROM x.response_time_ms_sum, r.response_time_ms_sum::text, x.response_time_ms_sum::text),
    ('response_time_ms_max', r.response_time_ms_max IS DISTINCT FROM x.response_time_ms_max, r.response_time_ms_max::text, x.response_time_ms_max::text),
    ('latency_histogram', r.latency_histogram IS DISTINCT FROM x.latency_histogram, r.latency_histogram::text, x.latency_histogram::text),
    ('order_count', r.order_count IS DISTINCT FROM x.order_count, r.order_count::text, x.order_count::text),
    ('revenue', r.revenue IS DISTINCT FROM x.revenue, r.revenue::text, x.revenue::text),
    ('last_seen_at', r.last_seen_at IS DISTINCT FROM x.last_seen_at, r.last_seen_at::text, x.last_seen_at::text)
) AS d (column_name, differs, rollup_value, raw_value)
WHERE d.differs AND (d.column_name = '(row)' OR (r.grain IS NOT NULL AND x.grain IS NOT NULL))
ORDER BY 1, 2, 3, 4;
