"""Request and response bodies of the Agent API. Money is a Decimal, serialised as a string ("12.50")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Identifier = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]


class Merchant(BaseModel):
    merchant_id: str
    name: str


class MerchantList(BaseModel):
    merchants: list[Merchant]


class Product(BaseModel):
    product_id: str
    merchant_id: str
    name: str
    description: str
    price: Decimal
    currency: str
    in_stock: bool


class ProductSearchResult(BaseModel):
    query: str
    count: int
    products: list[Product]


class MerchantProducts(BaseModel):
    merchant: Merchant
    products: list[Product]


class OrderItemIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    product_id: Identifier
    quantity: int = Field(ge=1, le=1000)


class OrderCreate(BaseModel):
    # strict: "2" is not a quantity; extra="forbid": a misspelt field is an error, not silently ignored.
    model_config = ConfigDict(strict=True, extra="forbid")

    merchant_id: Identifier
    items: list[OrderItemIn] = Field(min_length=1, max_length=50)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=100)


class OrderItem(BaseModel):
    product_id: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


class Order(BaseModel):
    order_id: str
    merchant_id: str
    status: str
    amount: Decimal
    currency: str
    idempotency_key: str | None
    items: list[OrderItem]
    created_at: datetime


class ErrorBody(BaseModel):
    detail: str
