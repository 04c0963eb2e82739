"""The shape of the demo traffic: who calls, what they call, how long it takes and how it fails.

Numbers are chosen to look like a commerce API used by AI agents: a few busy agents and a long tail,
search-heavy traffic, order creation slower than reads, 1-3 % errors mostly on the client side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The Agent API's seeded catalog (sql/003) plus merchants whose traffic predates it.
MERCHANTS: tuple[tuple[str, float], ...] = (
    ("acme_outdoor", 0.22),
    ("pixel_electronics", 0.2),
    ("nordic_home", 0.15),
    ("green_grocer", 0.14),
    ("book_nook", 0.1),
    ("urban_threads", 0.08),
    ("petal_and_stem", 0.06),
    ("bolt_hardware", 0.05),
)


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str
    weight: float  # share of traffic, relative
    median_ms: float  # latency: log-normal around this median
    sigma: float  # log-normal shape; 0.6 gives a p99 near 4x the median
    ok_status: int = 200
    error_rate: float = 0.015  # relative error propensity; scaled so the whole mix lands near 2 %
    has_merchant: bool = False
    creates_order: bool = False
    errors: tuple[tuple[int, str], ...] = ()  # endpoint-specific failures, besides the common ones


V1 = "/agent/v1"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        f"{V1}/products/search",
        30,
        85,
        0.55,
        errors=((400, "query parameter 'limit' must be between 1 and 100"),),
    ),
    Endpoint(
        "GET",
        f"{V1}/merchants/{{merchant_id}}/products",
        10,
        60,
        0.5,
        has_merchant=True,
        errors=((404, "merchant 'closed_shop' not found"),),
    ),
    Endpoint("GET", f"{V1}/merchants", 3, 18, 0.4),
    Endpoint(
        "POST",
        f"{V1}/orders",
        5,
        180,
        0.6,
        ok_status=201,
        error_rate=0.03,
        has_merchant=True,
        creates_order=True,
        errors=(
            (409, "insufficient stock for product 'acme_trail_stove'"),
            (422, "body.items.0.quantity: Input should be greater than or equal to 1"),
            (404, "product 'pixel_phone_x' not found at this merchant"),
        ),
    ),
    Endpoint(
        "GET",
        f"{V1}/orders/{{order_id}}",
        7,
        35,
        0.45,
        has_merchant=True,
        errors=((404, "order 'ord_7f3a9c21' not found"),),
    ),
    Endpoint(
        "GET",
        f"{V1}/products/{{product_id}}",
        9,
        40,
        0.5,
        has_merchant=True,
        errors=((404, "product 'acme_tent_4p' not found"),),
    ),
    Endpoint("GET", f"{V1}/products/{{product_id}}/availability", 6, 55, 0.6, has_merchant=True),
    Endpoint("GET", f"{V1}/products/{{product_id}}/reviews", 2, 70, 0.5, has_merchant=True),
    Endpoint("GET", f"{V1}/merchants/{{merchant_id}}", 2, 25, 0.4, has_merchant=True),
    Endpoint("GET", f"{V1}/categories", 1.5, 15, 0.4),
    Endpoint("GET", f"{V1}/categories/{{category_id}}/products", 3, 75, 0.55),
    Endpoint("GET", f"{V1}/recommendations", 2.5, 140, 0.7, error_rate=0.02),
    Endpoint("GET", f"{V1}/orders", 2, 45, 0.5),
    Endpoint(
        "POST",
        f"{V1}/orders/{{order_id}}/cancel",
        0.4,
        160,
        0.5,
        has_merchant=True,
        error_rate=0.04,
        errors=((409, "order 'ord_5b21e0d4' has already shipped and cannot be cancelled"),),
    ),
    Endpoint("GET", f"{V1}/orders/{{order_id}}/tracking", 1.5, 95, 0.6, has_merchant=True),
    Endpoint("POST", f"{V1}/carts", 3, 50, 0.45, ok_status=201, has_merchant=True),
    Endpoint("GET", f"{V1}/carts/{{cart_id}}", 2, 22, 0.4, has_merchant=True),
    Endpoint(
        "POST",
        f"{V1}/carts/{{cart_id}}/items",
        4,
        48,
        0.5,
        has_merchant=True,
        errors=((422, "body.quantity: Input should be less than or equal to 1000"),),
    ),
    Endpoint(
        "DELETE", f"{V1}/carts/{{cart_id}}/items/{{item_id}}", 0.8, 30, 0.45, ok_status=204, has_merchant=True
    ),
    Endpoint("POST", f"{V1}/checkout/quote", 2.5, 120, 0.55, has_merchant=True),
    Endpoint(
        "POST",
        f"{V1}/payments/intents",
        2,
        260,
        0.65,
        ok_status=201,
        has_merchant=True,
        error_rate=0.03,
        errors=((402, "payment declined by the card issuer"),),
    ),
    Endpoint("GET", f"{V1}/payments/{{payment_id}}", 1, 40, 0.5, has_merchant=True),
    Endpoint("GET", f"{V1}/shipping/rates", 1.5, 210, 0.7, has_merchant=True, error_rate=0.025),
    Endpoint(
        "POST",
        f"{V1}/returns",
        0.3,
        150,
        0.5,
        ok_status=201,
        has_merchant=True,
        errors=((409, "return window closed 30 days after delivery"),),
    ),
    Endpoint("GET", "<unmatched>", 0.15, 3, 0.3, error_rate=0.0),  # typos and old SDKs: always 404
)

# Failures any endpoint can have: (status, message, relative weight). 4xx dominate, as in real APIs.
COMMON_CLIENT_ERRORS: tuple[tuple[int, str, float], ...] = (
    (401, "invalid or missing API key", 3.0),
    (429, "rate limit exceeded: 600 requests per minute", 2.0),
    (400, "malformed JSON body", 0.7),
    (403, "agent is not allowed to act for this merchant", 0.5),
)
COMMON_SERVER_ERRORS: tuple[tuple[int, str, float], ...] = (
    (500, "internal error: OperationalError", 1.0),
    (502, "upstream merchant API returned an invalid response", 0.6),
    (503, "service temporarily unavailable", 0.8),
    (504, "merchant inventory service timed out after 5000 ms", 0.6),
)
SERVER_ERROR_SHARE = 0.25
TARGET_ERROR_RATE = 0.018

_VENDORS = ("shopwise", "dealhound", "cartpilot", "pricebot", "buyer-ai", "errandly", "askmart", "procura")
_ROLES = ("assistant", "scout", "restock", "concierge", "compare", "planner", "gifting", "bulk")


def agent_ids(count: int = 60) -> list[str]:
    """Distinct, plausible agent ids: vendor-role-NN."""
    return [
        f"{_VENDORS[i % len(_VENDORS)]}-{_ROLES[(i // len(_VENDORS)) % len(_ROLES)]}-{i:02d}"
        for i in range(count)
    ]


def agent_weights(count: int) -> list[float]:
    """Zipf-like shares: the busiest agent makes ~10x the traffic of the tenth; a long tail behind."""
    return [1.0 / (rank + 1) ** 1.1 for rank in range(count)]


def hourly_shape() -> list[float]:
    """Relative traffic per UTC hour: a quiet night, a late-morning climb and an afternoon peak."""
    return [
        0.25 + math.exp(-(((h - 14.5) / 4.0) ** 2)) + 0.35 * math.exp(-(((h - 9.0) / 2.0) ** 2))
        for h in range(24)
    ]
