from sqlalchemy import Engine, text

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
