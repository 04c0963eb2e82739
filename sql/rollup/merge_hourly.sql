-- Adds the staged groups (stage_*.sql) into the three hourly rollup tables. Every statement groups the
-- stage at its table's grain and merges with INSERT ... ON CONFLICT DO UPDATE: counts and sums add, the maximum
-- and last_seen_at take the greater value, histograms add bucket by bucket (histogram_add). Adding is
-- what makes incremental runs exact: a bucket touched by two runs holds the sum of both.
-- A backfill first deletes the rows of its range (clear_time_range.sql), so there it is a plain insert.

-- agent_usage_hourly_agent: one row per UTC hour and agent_id.
INSERT INTO agent_usage_hourly_agent AS r (
    bucket_start, agent_id, request_count, success_count, client_error_count, server_error_count,
    response_time_count, response_time_ms_sum, response_time_ms_max, latency_histogram,
    order_count, revenue, last_seen_at
)
SELECT c.bucket_start, c.agent_id,
       c.request_count, c.success_count, c.client_error_count, c.server_error_count,
       c.response_time_count, c.response_time_ms_sum, c.response_time_ms_max, h.latency_histogram,
       c.order_count, c.revenue, c.last_seen_at
FROM (
    SELECT
        date_trunc('hour', c.bucket_start, 'UTC') AS bucket_start, c.agent_id,
        sum(c.request_count) AS request_count,
        sum(c.success_count) AS success_count,
        sum(c.client_error_count) AS client_error_count,
        sum(c.server_error_count) AS server_error_count,
        sum(c.response_time_count) AS response_time_count,
        sum(c.response_time_ms_sum) AS response_time_ms_sum,
        max(c.response_time_ms_max) AS response_time_ms_max,
        sum(c.order_count) AS order_count,
        sum(c.revenue) AS revenue,
        max(c.last_seen_at) AS last_seen_at
    FROM rollup_stage_counts AS c
    GROUP BY 1, 2
) AS c
LEFT JOIN (
    SELECT date_trunc('hour', s.bucket_start, 'UTC') AS bucket_start, s.agent_id,
           histogram_from_buckets(array_agg(s.latency_bucket), array_agg(s.row_count)) AS latency_histogram
    FROM rollup_stage_latency AS s
    GROUP BY 1, 2
) AS h ON h.bucket_start = c.bucket_start AND h.agent_id = c.agent_id
ON CONFLICT (bucket_start, agent_id) DO UPDATE SET
    request_count = r.request_count + excluded.request_count,
    success_count = r.success_count + excluded.success_count,
    client_error_count = r.client_error_count + excluded.client_error_count,
    server_error_count = r.server_error_count + excluded.server_error_count,
    response_time_count = r.response_time_count + excluded.response_time_count,
    response_time_ms_sum = r.response_time_ms_sum + excluded.response_time_ms_sum,
    response_time_ms_max = greatest(r.response_time_ms_max, excluded.response_time_ms_max),
    latency_histogram = histogram_add(r.latency_histogram, excluded.latency_histogram),
    order_count = r.order_count + excluded.order_count,
    revenue = r.revenue + excluded.revenue,
    last_seen_at = greatest(r.last_seen_at, excluded.last_seen_at);

-- agent_usage_hourly_endpoint: one row per UTC hour and endpoint + method.
INSERT INTO agent_usage_hourly_endpoint AS r (
    bucket_start, endpoint, method, request_count, success_count, client_error_count, server_error_count,
    response_time_count, response_time_ms_sum, response_time_ms_max, latency_histogram,
    order_count, revenue, last_seen_at
)
SELECT c.bucket_start, c.endpoint, c.method,
       c.request_count, c.success_count, c.client_error_count, c.server_error_count,
       c.response_time_count, c.response_time_ms_sum, c.response_time_ms_max, h.latency_histogram,
       c.order_count, c.revenue, c.last_seen_at
FROM (
    SELECT
        date_trunc('hour', c.bucket_start, 'UTC') AS bucket_start, c.endpoint, c.method,
        sum(c.request_count) AS request_count,
        sum(c.success_count) AS success_count,
        sum(c.client_error_count) AS client_error_count,
        sum(c.server_error_count) AS server_error_count,
        sum(c.response_time_count) AS response_time_count,
        sum(c.response_time_ms_sum) AS response_time_ms_sum,
        max(c.response_time_ms_max) AS response_time_ms_max,
        sum(c.order_count) AS order_count,
        sum(c.revenue) AS revenue,
        max(c.last_seen_at) AS last_seen_at
    FROM rollup_stage_counts AS c
    GROUP BY 1, 2, 3
) AS c
LEFT JOIN (
    SELECT date_trunc('hour', s.bucket_start, 'UTC') AS bucket_start, s.endpoint, s.method,
           histogram_from_buckets(array_agg(s.latency_bucket), array_agg(s.row_count)) AS latency_histogram
    FROM rollup_stage_latency AS s
    GROUP BY 1, 2, 3
) AS h ON h.bucket_start = c.bucket_start AND h.endpoint = c.endpoint AND h.method = c.method
ON CONFLICT (bucket_start, endpoint, method) DO UPDATE SET
    request_count = r.request_count + excluded.request_count,
    success_count = r.success_count + excluded.success_count,
    client_error_count = r.client_error_count + excluded.client_error_count,
    server_error_count = r.server_error_count + excluded.server_error_count,
    response_time_count = r.response_time_count + excluded.response_time_count,
    response_time_ms_sum = r.response_time_ms_sum + excluded.response_time_ms_sum,
    response_time_ms_max = greatest(r.response_time_ms_max, excluded.response_time_ms_max),
    latency_histogram = histogram_add(r.latency_histogram, excluded.latency_histogram),
    order_count = r.order_count + excluded.order_count,
    revenue = r.revenue + excluded.revenue,
    last_seen_at = greatest(r.last_seen_at, excluded.last_seen_at);

-- agent_usage_hourly_status: requests per UTC hour and status code (0 = no status code).
INSERT INTO agent_usage_hourly_status AS r (bucket_start, status_code, request_count)
SELECT date_trunc('hour', c.bucket_start, 'UTC') AS bucket_start, c.status_code, sum(c.request_count)
FROM rollup_stage_counts AS c
GROUP BY 1, 2
ON CONFLICT (bucket_start, status_code) DO UPDATE SET
    request_count = r.request_count + excluded.request_count;
