"""`make traffic`: drive the live Agent API over HTTP with real agent keys and a realistic mix of calls.

Agents `traffic-<name>` are created on first use and reused after (each run adds a fresh key for each;
keys are shown once and never stored, so a run cannot pick up an earlier run's keys). The mix is mostly
searches and catalog reads, some orders and order look-ups, and a few percent of the failures real
clients cause: a wrong or missing key, unknown orders and merchants, invalid bodies, sold-out stock, a
mistyped path. Every request lands in `agent_usage_logs` through the service's usage middleware.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine

from app.agent_api.catalog import seed_demo_catalog
from app.agent_api.keys import create_agent

V1 = "/agent/v1"
AGENT_NAMES = ("shopwise", "dealhound", "cartpilot", "pricebot", "errandly", "askmart", "procura", "giftly")
SEARCH_WORDS = ("tent", "lamp", "coffee", "book", "wool", "cable", "honey", "oak", "guide", "filter", "")
SOLD_OUT_PRODUCT = ("acme_outdoor", "acme_trail_stove")  # seeded with little stock: large orders get 409


def ensure_agents(engine: Engine, count: int) -> dict[str, str]:
    """agent_id -> a fresh plaintext key, creating the agents the first time."""
    names = [
        AGENT_NAMES[i % len(AGENT_NAMES)] + ("" if i < len(AGENT_NAMES) else f"-{i}") for i in range(count)
    ]
    return {
        f"traffic-{name}": create_agent(engine, f"traffic-{name}", f"traffic generator ({name})")
        for name in names
    }


@dataclass
class _Session:
    """What the generator has learnt from the API so far, and what it has seen."""

    client: httpx.AsyncClient
    keys: dict[str, str]
    rng: random.Random
    catalog: dict[str, list[str]] = field(default_factory=dict)  # merchant -> product ids
    orders: dict[str, list[str]] = field(default_factory=dict)  # agent -> order ids it placed
    statuses: Counter[int] = field(default_factory=Counter)

    def agent(self) -> tuple[str, dict[str, str]]:
        # The first agents are the busy ones: weights 1, 1/2, 1/3, ...
        ids = list(self.keys)
        agent_id = self.rng.choices(ids, weights=[1 / (i + 1) for i in range(len(ids))])[0]
        return agent_id, {"X-API-Key": self.keys[agent_id]}

    async def call(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
        response = await self.client.request(method, path, headers=headers, **kwargs)
        self.statuses[response.status_code] += 1
        return response


async def _load_catalog(s: _Session) -> None:
    _, headers = s.agent()
    merchants = (await s.call("GET", f"{V1}/merchants", headers)).json()["merchants"]
    for merchant in merchants:
        response = await s.call("GET", f"{V1}/merchants/{merchant['merchant_id']}/products", headers)
        s.catalog[merchant["merchant_id"]] = [p["product_id"] for p in response.json()["products"]]
    if not s.catalog:
        raise RuntimeError("the Agent API lists no merchants: nothing to order")


async def _search(s: _Session) -> None:
    _, headers = s.agent()
    params: dict[str, Any] = {"q": s.rng.choice(SEARCH_WORDS), "limit": s.rng.choice((5, 10, 20))}
    if s.rng.random() < 0.3:
        params["merchant_id"] = s.rng.choice(list(s.catalog))
    await s.call("GET", f"{V1}/products/search", headers, params=params)


async def _browse(s: _Session) -> None:
    _, headers = s.agent()
    if s.rng.random() < 0.2:
        await s.call("GET", f"{V1}/merchants", headers)
    else:
        await s.call("GET", f"{V1}/merchants/{s.rng.choice(list(s.catalog))}/products", headers)


async def _order(s: _Session) -> None:
    agent_id, headers = s.agent()
    merchant = s.rng.choice([m for m, products in s.catalog.items() if products])
    products = s.rng.sample(s.catalog[merchant], k=min(len(s.catalog[merchant]), s.rng.randint(1, 3)))
    items = [{"product_id": p, "quantity": s.rng.choice((1, 1, 1, 2, 3))} for p in products]
    response = await s.call("POST", f"{V1}/orders", headers, json={"merchant_id": merchant, "items": items})
    if response.status_code == 201:
        s.orders.setdefault(agent_id, []).append(response.json()["order_id"])


async def _read_order(s: _Session) -> None:
    agent_id, headers = s.agent()
    placed = s.orders.get(agent_id)
    order_id = s.rng.choice(placed) if placed else "ord_not_placed_yet"
    await s.call("GET", f"{V1}/orders/{order_id}", headers)


async def _failure(s: _Session) -> None:
    """The mistakes real clients make; each answers 4xx and is logged like any request."""
    _, headers = s.agent()
    kind = s.rng.randrange(8)
    if kind == 0:
        await s.call(
            "GET", f"{V1}/products/search", {"X-API-Key": "amk_revoked_or_mistyped_key"}, params={"q": "x"}
        )
    elif kind == 1:
        await s.call("GET", f"{V1}/merchants", {})
    elif kind == 2:
        await s.call("GET", f"{V1}/orders/ord_{s.rng.getrandbits(40):010x}", headers)
    elif kind == 3:
        await s.call("GET", f"{V1}/merchants/closed_shop/products", headers)
    elif kind == 4:
        body = {"merchant_id": s.rng.choice(list(s.catalog)), "items": [{"product_id": "x", "quantity": 0}]}
        await s.call("POST", f"{V1}/orders", headers, json=body)
    elif kind == 5:
        merchant, product = SOLD_OUT_PRODUCT
        body = {"merchant_id": merchant, "items": [{"product_id": product, "quantity": 1000}]}
        await s.call("POST", f"{V1}/orders", headers, json=body)
    elif kind == 6:
        await s.call("GET", f"{V1}/product/search", headers, params={"q": "typo"})
    else:
        await s.call("GET", f"{V1}/products/search", headers, params={"q": "x", "limit": 1000})


_MIX: tuple[tuple[Callable[[_Session], Awaitable[None]], float], ...] = (
    (_search, 45),
    (_browse, 20),
    (_order, 12),
    (_read_order, 15),
    (_failure, 8),
)


async def drive(
    base_url: str,
    keys: dict[str, str],
    *,
    requests: int = 500,
    concurrency: int = 4,
    seed: int = 42,
    rate: float | None = None,
) -> Counter[int]:
    """Send about `requests` requests (the catalog is read first); return the count of each status."""
    rng = random.Random(seed)
    actions, weights = zip(*_MIX, strict=True)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        session = _Session(client, keys, rng)
        await _load_catalog(session)
        plan = rng.choices(actions, weights=weights, k=max(0, requests - session.statuses.total()))
        gate = asyncio.Semaphore(concurrency)
        interval = 1.0 / rate if rate else 0.0
        started = time.monotonic()

        async def one(index: int, action: Callable[[_Session], Awaitable[None]]) -> None:
            if interval:
                await asyncio.sleep(max(0.0, started + index * interval - time.monotonic()))
            async with gate:
                await action(session)

        await asyncio.gather(*(one(i, action) for i, action in enumerate(plan)))
        return session.statuses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.cli traffic",
        description="Drive the live Agent API over HTTP with real agent keys.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running service")
    parser.add_argument("--agents", type=int, default=6, help="how many traffic agents (default 6)")
    parser.add_argument("--requests", type=int, default=500, help="how many requests (default 500)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument("--rate", type=float, help="at most this many requests per second")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if (
        args.agents < 1
        or args.requests < 1
        or args.concurrency < 1
        or (args.rate is not None and args.rate <= 0)
    ):
        parser.error("--agents, --requests, --concurrency and --rate must be positive")

    from app.db import get_engine

    seed_demo_catalog(get_engine())  # the traffic buys from the demo merchants
    keys = ensure_agents(get_engine(), args.agents)
    began = time.perf_counter()
    try:
        statuses = asyncio.run(
            drive(
                args.url,
                keys,
                requests=args.requests,
                concurrency=args.concurrency,
                seed=args.seed,
                rate=args.rate,
            )
        )
    except httpx.HTTPError as exc:
        print(f"error: cannot reach the Agent API at {args.url}: {type(exc).__name__}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - began
    total = statuses.total()
    print(f"sent {total} requests as {len(keys)} agents in {seconds:.1f} s ({total / seconds:.0f}/s)")
    print("by status: " + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())))
    return 0
