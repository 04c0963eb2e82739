"""Read queries over merchants and products."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.agent_api.schemas import Merchant, Product

_PRODUCT_COLUMNS = "product_id, merchant_id, name, description, price, currency, stock > 0 AS in_stock"


def seed_demo_catalog(engine: Engine) -> None:
    """Adds the demo merchants and products (sql/003) where missing: for development and demo traffic."""
    with engine.begin() as conn:
        conn.execute(text("SELECT seed_demo_catalog()"))


def _like_pattern(term: str) -> str:
    """A LIKE pattern matching `term` literally anywhere (its own % and _ are escaped)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_merchants(session: Session) -> list[Merchant]:
    rows = session.execute(text("SELECT merchant_id, name FROM merchants ORDER BY merchant_id"))
    return [Merchant(**row._mapping) for row in rows]


def get_merchant(session: Session, merchant_id: str) -> Merchant | None:
    row = session.execute(
        text("SELECT merchant_id, name FROM merchants WHERE merchant_id = :m"), {"m": merchant_id}
    ).one_or_none()
    return Merchant(**row._mapping) if row else None


def search_products(session: Session, query: str, merchant_id: str | None, limit: int) -> list[Product]:
    rows = session.execute(
        text(
            f"SELECT {_PRODUCT_COLUMNS} FROM products "
            "WHERE (name ILIKE :pattern OR description ILIKE :pattern) "
            "AND (CAST(:merchant_id AS text) IS NULL OR merchant_id = :merchant_id) "
            "ORDER BY name, product_id LIMIT :limit"
        ),
        {"pattern": _like_pattern(query), "merchant_id": merchant_id, "limit": limit},
    )
    return [Product(**row._mapping) for row in rows]


def merchant_products(session: Session, merchant_id: str) -> list[Product]:
    rows = session.execute(
        text(f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE merchant_id = :m ORDER BY name, product_id"),
        {"m": merchant_id},
    )
    return [Product(**row._mapping) for row in rows]
