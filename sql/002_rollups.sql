-- Rollup tables and their latency histograms.
--
-- Every rollup row summarises the raw rows of one time bucket (UTC) and one key. Counts are exact; the
-- latency histogram gives percentiles within 2 % relative error and merges by plain addition, so any
-- set of rows (hours, agents, endpoints) can be combined into one histogram.
--
-- How a raw row is counted (the same rules in every table):
--   request_count          every row
--   success_count          status_code < 400
--   client_error_count     status_code 400-499
--   server_error_count     status_code >= 500
--   (a NULL status_code counts in request_count only: neither a success nor an error)
--   response_time_count    rows whose response_time_ms is not NULL (the divisor of the average)
--   response_time_ms_sum   sum of response_time_ms     -> average = response_time_ms_sum / response_time_count
--   response_time_ms_max   max of response_time_ms
--   latency_histogram      counts per latency bucket, see latency_bucket() below
--   order_count            rows with an order_id and status_code < 400
--   revenue                sum of order_amount over those same rows (NUMERIC: exact to the cent)
--   last_seen_at           the newest raw `timestamp` in the bucket
--   NULL agent_id, endpoint or method are counted under 'unknown'; a NULL status_code under 0.
--
-- Latency histogram layout (log-linear, like a Prometheus native histogram or DDSketch):
--   bucket 0 holds response times below 1 ms (including 0 and negative values);
--   bucket k >= 1 holds response times in (1.04^(k-2), 1.04^(k-1)] ms, so bucket 1 is (0.96, 1] ms,
--   bucket 100 is (47.7, 49.6] ms, bucket 200 is (2381, 2477] ms.
--   The array is 1-based as PostgreSQL arrays are: element k+1 counts bucket k. It ends at its highest
--   non-empty bucket, so arrays differ in length; histogram_add() pads the shorter one with zeros.
--   A bucket's representative value 2 * 1.04^(k-1) / 2.04 is within 1.96 % of every value in it.

CREATE OR REPLACE FUNCTION latency_bucket(response_time_ms double precision)
RETURNS integer LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN response_time_ms < 1 THEN 0
                ELSE 1 + ceil(ln(response_time_ms) / ln(1.04))::integer END
$$;

-- Upper bound (inclusive) of bucket k, in ms.
CREATE OR REPLACE FUNCTION latency_bucket_upper_ms(k integer)
RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN k = 0 THEN 0.0 ELSE power(1.04, k - 1) END
$$;

-- The value reported for a percentile that falls in bucket k.
CREATE OR REPLACE FUNCTION latency_bucket_value_ms(k integer)
RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN k = 0 THEN 0.0 ELSE 2 * power(1.04, k - 1) / 2.04 END
$$;

-- Element-wise sum of two histograms (NULL counts as empty).
CREATE OR REPLACE FUNCTION histogram_add(a bigint[], b bigint[])
RETURNS bigint[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN a IS NULL THEN b
        WHEN b IS NULL THEN a
        ELSE (SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
              FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i))
    END
$$;

-- histogram_sum(latency_histogram): merges the histograms of many rows, e.g. 24 hours of one agent.
CREATE OR REPLACE AGGREGATE histogram_sum(bigint[]) (
    SFUNC = histogram_add,
    STYPE = bigint[],
    COMBINEFUNC = histogram_add,
    PARALLEL = SAFE
);

-- Builds a histogram from (bucket, count) pairs: histogram_from_buckets(array_agg(k), array_agg(n)).
CREATE OR REPLACE FUNCTION histogram_from_buckets(buckets integer[], counts bigint[])
RETURNS bigint[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(c.n, 0) ORDER BY g.k)
    FROM generate_series(0, (SELECT max(b) FROM unnest(buckets) AS b)) AS g(k)
    LEFT JOIN (SELECT b, sum(n)::bigint AS n FROM unnest(buckets, counts) AS u(b, n) GROUP BY b) AS c
        ON c.b = g.k
$$;

-- The q-quantile (0 < q <= 1) of a histogram, with percentile_disc's rank rule: the value of the
-- ceil(q * N)-th smallest observation. NULL for an empty histogram.
CREATE OR REPLACE FUNCTION histogram_quantile(h bigint[], q double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH counts AS (
        SELECT i - 1 AS k, n, sum(n) OVER (ORDER BY i) AS running
        FROM unnest(h) WITH ORDINALITY AS t(n, i)
    ), total AS (SELECT sum(n) AS n FROM counts)
    SELECT latency_bucket_value_ms(min(k)::integer)
    FROM counts, total
    WHERE total.n > 0 AND running >= greatest(1, ceil(q * total.n))
$$;

-- Hourly rollups (for analysts). bucket_start is the UTC hour start.
CREATE TABLE IF NOT EXISTS agent_usage_hourly_agent (
    bucket_start         timestamptz NOT NULL,
    agent_id             varchar(50) NOT NULL,
    request_count        bigint NOT NULL DEFAULT 0,
    success_count        bigint NOT NULL DEFAULT 0,
    client_error_count   bigint NOT NULL DEFAULT 0,
    server_error_count   bigint NOT NULL DEFAULT 0,
    response_time_count  bigint NOT NULL DEFAULT 0,
    response_time_ms_sum bigint NOT NULL DEFAULT 0,
    response_time_ms_max integer,
    latency_histogram    bigint[],
    order_count          bigint NOT NULL DEFAULT 0,
    revenue              numeric NOT NULL DEFAULT 0,
    last_seen_at         timestamptz,
    PRIMARY KEY (bucket_start, agent_id)
);

CREATE TABLE IF NOT EXISTS agent_usage_hourly_endpoint (
    bucket_start         timestamptz NOT NULL,
    endpoint             varchar(255) NOT NULL,
    method               varchar(10) NOT NULL,
    request_count        bigint NOT NULL DEFAULT 0,
    success_count        bigint NOT NULL DEFAULT 0,
    client_error_count   bigint NOT NULL DEFAULT 0,
    server_error_count   bigint NOT NULL DEFAULT 0,
    response_time_count  bigint NOT NULL DEFAULT 0,
    response_time_ms_sum bigint NOT NULL DEFAULT 0,
    response_time_ms_max integer,
    latency_histogram    bigint[],
    order_count          bigint NOT NULL DEFAULT 0,
    revenue              numeric NOT NULL DEFAULT 0,
    last_seen_at         timestamptz,
    PRIMARY KEY (bucket_start, endpoint, method)
);

CREATE TABLE IF NOT EXISTS agent_usage_hourly_status (
    bucket_start  timestamptz NOT NULL,
    status_code   integer NOT NULL,          -- 0 = the raw row had no status code
    request_count bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_start, status_code)
);

-- Per-minute rollups, the same columns with bucket_start = UTC minute start. They make sliding windows
-- exact to the minute (the last 60 minutes, 24 hours, 7 days) without reading raw rows: a window is
-- whole hours from the hourly tables plus the partial hours at its two ends from these. Kept for
-- eight days (a 7-day window plus margin); purge removes older minutes.
CREATE TABLE IF NOT EXISTS agent_usage_minute_agent (LIKE agent_usage_hourly_agent INCLUDING ALL);
CREATE TABLE IF NOT EXISTS agent_usage_minute_endpoint (LIKE agent_usage_hourly_endpoint INCLUDING ALL);
CREATE TABLE IF NOT EXISTS agent_usage_minute_status (LIKE agent_usage_hourly_status INCLUDING ALL);

-- Aggregator state: the watermark is the highest raw id that is rolled up. Raw rows with
-- id <= last_id are counted in the rollups exactly once; rows above it are not counted yet.
CREATE TABLE IF NOT EXISTS rollup_watermark (
    name       text PRIMARY KEY,
    last_id    bigint NOT NULL DEFAULT 0,
    -- The time at which every raw row committed before it was rolled up ("data as of").
    as_of      timestamptz,
    -- Raw rows before this time may have been removed by retention; rollups before it are final.
    purged_before timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO rollup_watermark (name) VALUES ('agent_usage') ON CONFLICT (name) DO NOTHING;

-- One row per aggregator run (incremental, backfill, purge), for the health endpoint and operators.
CREATE TABLE IF NOT EXISTS rollup_runs (
    id             bigserial PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('incremental', 'backfill', 'purge')),
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    duration_ms    double precision,
    rows_processed bigint NOT NULL DEFAULT 0,
    from_id        bigint,
    to_id          bigint,
    status         text NOT NULL CHECK (status IN ('running', 'succeeded', 'skipped', 'failed')),
    error          text
);
CREATE INDEX IF NOT EXISTS rollup_runs_kind_started_idx ON rollup_runs (kind, started_at DESC);
