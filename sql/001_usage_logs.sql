-- The raw usage table: one row per Agent API request.
--
-- Columns, names and types are the original system's (widened where noted), so an existing table can be
-- adopted: `CREATE TABLE IF NOT EXISTS` leaves it alone and the `ADD COLUMN IF NOT EXISTS` below add
-- only what is new. Rows written by other programs may leave any column but `id` and `timestamp` NULL.
CREATE TABLE IF NOT EXISTS agent_usage_logs (
    id               BIGSERIAL PRIMARY KEY,
    agent_id         VARCHAR(50),
    endpoint         VARCHAR(255),      -- the route template, e.g. /agent/v1/orders/{order_id}
    method           VARCHAR(10),
    merchant_id      VARCHAR(50),
    status_code      INTEGER,
    response_time_ms INTEGER,
    error_message    TEXT,              -- scrubbed of secrets and capped in length by the writer
    order_id         VARCHAR(50),
    order_amount     NUMERIC(10, 2),
    "timestamp"      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Added: ties a usage row to the request's log line and Sentry event.
ALTER TABLE agent_usage_logs ADD COLUMN IF NOT EXISTS request_id VARCHAR(64);

-- An adopted table may have been created with SERIAL (int4); widen the key so it cannot run out.
DO $$
BEGIN
    IF (SELECT data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'agent_usage_logs'
          AND column_name = 'id') = 'integer' THEN
        ALTER TABLE agent_usage_logs ALTER COLUMN id TYPE BIGINT;
        ALTER SEQUENCE IF EXISTS agent_usage_logs_id_seq AS BIGINT;
    END IF;
END
$$;

-- Error drill-down: newest error rows first, optionally for one status code, agent or endpoint. Partial
-- indexes keep them small (errors are 1-3 % of rows) and `id` makes the keyset cursor stable.
CREATE INDEX IF NOT EXISTS agent_usage_logs_errors_idx
    ON agent_usage_logs ("timestamp" DESC, id DESC) WHERE status_code >= 400;
CREATE INDEX IF NOT EXISTS agent_usage_logs_errors_status_idx
    ON agent_usage_logs (status_code, "timestamp" DESC, id DESC) WHERE status_code >= 400;
CREATE INDEX IF NOT EXISTS agent_usage_logs_errors_agent_idx
    ON agent_usage_logs (agent_id, "timestamp" DESC, id DESC) WHERE status_code >= 400;
CREATE INDEX IF NOT EXISTS agent_usage_logs_errors_endpoint_idx
    ON agent_usage_logs (endpoint, "timestamp" DESC, id DESC) WHERE status_code >= 400;

-- Retention deletes by time in bounded batches; the aggregator scans new rows by the primary key.
CREATE INDEX IF NOT EXISTS agent_usage_logs_timestamp_idx ON agent_usage_logs ("timestamp");
