-- Deletes the rollup rows of [:since, :until) (hour-aligned) before a backfill recomputes them, in the
-- same transaction as the recomputation, so readers see either the old rows or the new ones.
DELETE FROM agent_usage_minute_agent WHERE bucket_start >= :since AND bucket_start < :until;
DELETE FROM agent_usage_minute_endpoint WHERE bucket_start >= :since AND bucket_start < :until;
DELETE FROM agent_usage_minute_status WHERE bucket_start >= :since AND bucket_start < :until;
DELETE FROM agent_usage_hourly_agent WHERE bucket_start >= :since AND bucket_start < :until;
DELETE FROM agent_usage_hourly_endpoint WHERE bucket_start >= :since AND bucket_start < :until;
DELETE FROM agent_usage_hourly_status WHERE bucket_start >= :since AND bucket_start < :until;
