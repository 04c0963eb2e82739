-- histogram_from_buckets() and histogram_add(), same contracts as in 002_rollups.sql, rewritten as
-- PL/pgSQL loops. The aggregator builds one histogram per rollup row it writes (hundreds of thousands in
-- a backfill) and adds one per rollup row it updates; the SQL versions (set-returning joins) cost about
-- 2-3 times more per call.

-- A dense array from bucket 0 to the highest bucket given, counts of repeated buckets added, NULL or
-- negative buckets and NULL counts ignored, NULL when there is nothing to count.
CREATE OR REPLACE FUNCTION histogram_from_buckets(buckets integer[], counts bigint[])
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    top integer;
    h bigint[];
    i integer;
BEGIN
    SELECT max(b) INTO top FROM unnest(buckets) AS b WHERE b >= 0;
    IF top IS NULL THEN
        RETURN NULL;
    END IF;
    h := array_fill(0::bigint, ARRAY[top + 1]);
    FOR i IN 1 .. least(cardinality(buckets), cardinality(counts)) LOOP
        IF buckets[i] >= 0 AND counts[i] IS NOT NULL THEN
            h[buckets[i] + 1] := h[buckets[i] + 1] + counts[i];
        END IF;
    END LOOP;
    RETURN h;
END
$$;

-- Element-wise sum; the result is as long as the longer input; NULL counts as empty.
CREATE OR REPLACE FUNCTION histogram_add(a bigint[], b bigint[])
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    longer bigint[];
    shorter bigint[];
    i integer;
BEGIN
    IF a IS NULL THEN
        RETURN b;
    ELSIF b IS NULL THEN
        RETURN a;
    END IF;
    IF cardinality(a) >= cardinality(b) THEN
        longer := a;
        shorter := b;
    ELSE
        longer := b;
        shorter := a;
    END IF;
    FOR i IN 1 .. cardinality(longer) LOOP
        longer[i] := coalesce(longer[i], 0) + coalesce(shorter[i], 0);
    END LOOP;
    RETURN longer;
END
$$;
