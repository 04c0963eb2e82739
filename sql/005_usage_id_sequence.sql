-- The aggregator's watermark (sql/rollup/README.md) reads the id sequence's last value and then waits
-- for the writers that hold smaller ids. That is exact only if every id is drawn from the sequence, one
-- at a time, inside the INSERT that uses it. A sequence with CACHE > 1 hands each session a block of ids
-- to use later, possibly after the watermark has passed them, so an adopted table's sequence is set
-- back to CACHE 1 here (the default for tables this project creates).
DO $$
DECLARE
    seq text := pg_get_serial_sequence('agent_usage_logs', 'id');
BEGIN
    IF seq IS NULL THEN
        RAISE EXCEPTION 'agent_usage_logs.id must draw its values from a sequence (BIGSERIAL or identity)';
    END IF;
    EXECUTE format('ALTER SEQUENCE %s CACHE 1', seq);
END
$$;
