"""Placing and reading orders. Runs inside the request's session; the dependency commits or rolls back."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.agent_api.catalog import get_merchant
from app.agent_api.schemas import Order, OrderCreate, OrderItem

# orders.amount and agent_usage_logs.order_amount are NUMERIC(10,2).
MAX_ORDER_AMOUNT = Decimal("99999999.99")


class OrderError(Exception):
    """A failure the caller can act on; `status_code` is the HTTP answer."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(OrderError):
    status_code = 404


class Conflict(OrderError):
    status_code = 409


class Unprocessable(OrderError):
    status_code = 422


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    # True when an earlier order with the same idempotency key and content was returned instead.
    replayed: bool


def _request_digest(merchant_id: str, quantities: dict[str, int]) -> str:
    canonical = json.dumps({"merchant_id": merchant_id, "items": sorted(quantities.items())})
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(session: Session, agent_id: str, body: OrderCreate) -> PlacedOrder:
    if get_merchant(session, body.merchant_id) is None:
        raise NotFound(f"merchant {body.merchant_id!r} not found")
    quantities: Counter[str] = Counter()
    for item in body.items:
        quantities[item.product_id] += item.quantity
    digest = _request_digest(body.merchant_id, dict(quantities))
    order_id = "ord_" + secrets.token_hex(12)

    # Insert the order first: with an idempotency key, a concurrent duplicate waits here on the unique
    # index until the first transaction ends, then finds its order instead of placing a second one.
    inserted = session.execute(
        text(
            "INSERT INTO orders (order_id, agent_id, merchant_id, idempotency_key, request_digest, amount) "
            "VALUES (:order_id, :agent_id, :merchant_id, :key, :digest, 0) "
            "ON CONFLICT (agent_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING "
            "RETURNING order_id"
        ),
        {
            "order_id": order_id,
            "agent_id": agent_id,
            "merchant_id": body.merchant_id,
            "key": body.idempotency_key,
            "digest": digest,
        },
    ).scalar_one_or_none()
    if inserted is None:
        return _replay(session, agent_id, body, digest)

    lines: list[tuple[str, int, Decimal, str]] = []
    # Sorted, so two orders for the same products lock the product rows in the same order (no deadlock).
    for product_id, quantity in sorted(quantities.items()):
        row = session.execute(
            text(
                "UPDATE products SET stock = stock - :q "
                "WHERE product_id = :p AND merchant_id = :m AND stock >= :q RETURNING price, currency"
            ),
            {"q": quantity, "p": product_id, "m": body.merchant_id},
        ).one_or_none()
        if row is None:
            exists = session.execute(
                text("SELECT 1 FROM products WHERE product_id = :p AND merchant_id = :m"),
                {"p": product_id, "m": body.merchant_id},
            ).first()
            if exists is None:
                raise NotFound(f"product {product_id!r} not found at merchant {body.merchant_id!r}")
            raise Conflict(f"insufficient stock for product {product_id!r}")
        lines.append((product_id, quantity, row.price, row.currency))

    currencies = {currency for *_, currency in lines}
    if len(currencies) != 1:
        raise Unprocessable("all items of an order must be priced in one currency")
    amount = sum((price * quantity for _, quantity, price, _ in lines), Decimal("0.00"))
    if amount > MAX_ORDER_AMOUNT:
        raise Unprocessable(f"order amount exceeds {MAX_ORDER_AMOUNT}")

    session.execute(
        text(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price) "
            "VALUES (:order_id, :product_id, :quantity, :unit_price)"
        ),
        [
            {"order_id": order_id, "product_id": p, "quantity": q, "unit_price": price}
            for p, q, price, _ in lines
        ],
    )
    session.execute(
        text("UPDATE orders SET amount = :amount, currency = :currency WHERE order_id = :order_id"),
        {"amount": amount, "currency": currencies.pop(), "order_id": order_id},
    )
    order = get_order(session, agent_id, order_id)
    assert order is not None  # inserted above, in this transaction
    return PlacedOrder(order=order, replayed=False)


def _replay(session: Session, agent_id: str, body: OrderCreate, digest: str) -> PlacedOrder:
    existing = session.execute(
        text("SELECT order_id, request_digest FROM orders WHERE agent_id = :a AND idempotency_key = :k"),
        {"a": agent_id, "k": body.idempotency_key},
    ).one()
    if existing.request_digest != digest:
        raise Conflict("idempotency_key was already used for a different order")
    order = get_order(session, agent_id, existing.order_id)
    assert order is not None
    return PlacedOrder(order=order, replayed=True)


def get_order(session: Session, agent_id: str, order_id: str) -> Order | None:
    """The order if it exists and belongs to this agent (another agent's order is simply not found)."""
    head = session.execute(
        text(
            "SELECT order_id, merchant_id, status, amount, currency, idempotency_key, created_at "
            "FROM orders WHERE order_id = :o AND agent_id = :a"
        ),
        {"o": order_id, "a": agent_id},
    ).one_or_none()
    if head is None:
        return None
    items = session.execute(
        text(
            "SELECT i.product_id, p.name, i.quantity, i.unit_price, i.quantity * i.unit_price AS line_total "
            "FROM order_items i JOIN products p USING (product_id) "
            "WHERE i.order_id = :o ORDER BY i.product_id"
        ),
        {"o": order_id},
    )
    return Order(**head._mapping, items=[OrderItem(**row._mapping) for row in items])
