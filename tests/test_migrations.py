from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from app.migrations import discover, migrate


def test_migrations_apply_twice_without_change(engine: Engine) -> None:
    def schema_fingerprint() -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(
                    text(
                        "SELECT table_name, column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = current_schema() ORDER BY 1, 2"
                    )
                )
            ]

    before = schema_fingerprint()
    assert migrate(engine) == []
    assert schema_fingerprint() == before
    with engine.connect() as conn:
        applied = conn.execute(text("SELECT count(*) FROM schema_migrations")).scalar_one()
    assert applied == len(discover())


ORIGINAL_TABLE = """
CREATE TABLE agent_usage_logs (
    id SERIAL PRIMARY KEY,
    agent_id VARCHAR(50),
    endpoint VARCHAR(255),
    method VARCHAR(10),
    merchant_id VARCHAR(50),
    status_code INTEGER,
    response_time_ms INTEGER,
    error_message TEXT,
    order_id VARCHAR(50),
    order_amount NUMERIC(10,2),
    timestamp TIMESTAMPTZ DEFAULT NOW()
);
ALTER SEQUENCE agent_usage_logs_id_seq CACHE 20;
INSERT INTO agent_usage_logs (agent_id, endpoint, method, status_code, response_time_ms)
VALUES ('agent_old', '/agent/v1/orders/create', 'POST', 200, 145);
"""


def test_an_existing_original_table_is_adopted_with_its_rows(migrated_engine: Engine) -> None:
    """The original system's table (SERIAL key, a cached sequence) is kept, widened and made safe."""
    with migrated_engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS adopted CASCADE"))
        conn.execute(text("CREATE SCHEMA adopted"))
    adopted = create_engine(
        migrated_engine.url, connect_args={"options": "-c search_path=adopted"}, poolclass=NullPool
    )
    try:
        with adopted.begin() as conn:
            conn.exec_driver_sql(ORIGINAL_TABLE)
        migrate(adopted)
        with adopted.connect() as conn:
            id_type = conn.execute(
                text(
                    "SELECT data_type FROM information_schema.columns WHERE table_schema = 'adopted'"
                    " AND table_name = 'agent_usage_logs' AND column_name = 'id'"
                )
            ).scalar_one()
            cache = conn.execute(
                text(
                    "SELECT cache_size FROM pg_sequences WHERE schemaname = 'adopted'"
                    " AND sequencename = 'agent_usage_logs_id_seq'"
                )
            ).scalar_one()
            old_row = conn.execute(text("SELECT agent_id, request_id FROM agent_usage_logs")).one()
        assert id_type == "bigint"
        assert cache == 1  # the watermark needs ids drawn one at a time (sql/005)
        assert tuple(old_row) == ("agent_old", None)
    finally:
        adopted.dispose()
        with migrated_engine.begin() as conn:
            conn.execute(text("DROP SCHEMA adopted CASCADE"))
