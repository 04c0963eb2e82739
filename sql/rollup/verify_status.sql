-- verify for agent_usage_hourly_status and agent_usage_minute_status: every rollup row against the same
-- aggregate computed here directly from the raw rows the aggregator has processed (id <= :last_id),
-- using latency_bucket() itself. A FULL OUTER JOIN, so a rollup row without raw rows and raw rows
-- without a rollup row both show. One output row per differing column; no output = no drift.
-- Hours from :since, minutes from :minute_since (older minute rows are removed by purge), up to :until.
-- Run it in a REPEATABLE READ transaction: the watermark, rollups and raw rows then come from one
-- snapshot, so a run committing meanwhile cannot look like drift.
WITH raw AS (
    SELECT g.grain,
           date_trunc(g.grain, l."timestamp", 'UTC') AS bucket_start,
           coalesce(l.status_code, 0) AS status_code,
           count(*) AS request_count
    FROM agent_usage_logs AS l
    JOIN (VALUES ('hour', CAST(:since AS timestamptz)), ('minute', CAST(:minute_since AS timestamptz)))
        AS g (grain, since) ON l."timestamp" >= g.since
    WHERE l.id <= :last_id AND l."timestamp" < :until
    GROUP BY 1, 2, 3
), rollup AS (
    SELECT 'hour' AS grain, r.* FROM agent_usage_hourly_status AS r
    WHERE r.bucket_start >= :since AND r.bucket_start < :until
    UNION ALL
    SELECT 'minute' AS grain, r.* FROM agent_usage_minute_status AS r
    WHERE r.bucket_start >= :minute_since AND r.bucket_start < :until
)
SELECT CASE coalesce(r.grain, x.grain) WHEN 'hour' THEN 'agent_usage_hourly_status'
                                       ELSE 'agent_usage_minute_status' END AS table_name,
       coalesce(r.bucket_start, x.bucket_start) AS bucket_start,
       coalesce(r.status_code, x.status_code)::text AS key,
       d.column_name, d.rollup_value, d.raw_value
FROM rollup AS r
FULL OUTER JOIN raw AS x ON x.grain = r.grain AND x.bucket_start = r.bucket_start AND x.status_code = r.status_code
CROSS JOIN LATERAL (VALUES
    ('(row)', r.grain IS NULL OR x.grain IS NULL,
     CASE WHEN r.grain IS NULL THEN 'missing' ELSE 'present' END,
     CASE WHEN x.grain IS NULL THEN 'no raw rows' ELSE 'present' END),
    ('request_count', r.request_count IS DISTINCT FROM x.request_count, r.request_count::text, x.request_count::text)
) AS d (column_name, differs, rollup_value, raw_value)
WHERE d.differs AND (d.column_name = '(row)' OR (r.grain IS NOT NULL AND x.grain IS NOT NULL))
ORDER BY 1, 2, 3, 4;
