"""The Agent API's HTTP surface under /agent/v1. Every route needs an agent API key.

Routes put `merchant_id` (and, for a newly placed order, `order_id` and `order_amount`) on
`request.state`, where the usage-logging middleware reads them after the response.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from app.agent_api import catalog
from app.agent_api.orders import OrderError, get_order, place_order
from app.agent_api.schemas import (
    ErrorBody,
    Identifier,
    MerchantList,
    MerchantProducts,
    Order,
    OrderCreate,
    ProductSearchResult,
)
from app.auth.deps import AgentDep, require_agent
from app.db import get_session

router = APIRouter(
    prefix="/agent/v1",
    tags=["agent api"],
    dependencies=[Depends(require_agent)],
    responses={401: {"model": ErrorBody, "description": "missing or invalid API key"}},
)

# scope="function": the transaction commits before the response is sent, so an agent that reads its
# order right after placing it finds it, and a failed commit is an error answer rather than a lost order.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
IdPath = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]


@router.get("/merchants", response_model=MerchantList)
def list_merchants(session: DbSession) -> MerchantList:
    return MerchantList(merchants=catalog.list_merchants(session))


@router.get(
    "/merchants/{merchant_id}/products",
    response_model=MerchantProducts,
    responses={404: {"model": ErrorBody}},
)
def list_merchant_products(merchant_id: IdPath, request: Request, session: DbSession) -> MerchantProducts:
    request.state.merchant_id = merchant_id
    merchant = catalog.get_merchant(session, merchant_id)
    if merchant is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"merchant {merchant_id!r} not found")
    return MerchantProducts(merchant=merchant, products=catalog.merchant_products(session, merchant_id))


@router.get("/products/search", response_model=ProductSearchResult)
def search_products(
    request: Request,
    session: DbSession,
    q: Annotated[
        str, Query(max_length=100, pattern=r"^[^\x00]*$", description="text in the name or description")
    ] = "",
    merchant_id: Annotated[Identifier | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ProductSearchResult:
    if merchant_id is not None:
        request.state.merchant_id = merchant_id
    products = catalog.search_products(session, q.strip(), merchant_id, limit)
    return ProductSearchResult(query=q, count=len(products), products=products)


@router.post(
    "/orders",
    response_model=Order,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": Order, "description": "a retry with the same idempotency key: the earlier order"},
        404: {"model": ErrorBody, "description": "unknown merchant or product"},
        409: {"model": ErrorBody, "description": "insufficient stock, or idempotency key reused"},
        422: {"description": "invalid order"},
    },
)
def create_order(
    body: OrderCreate, request: Request, response: Response, agent: AgentDep, session: DbSession
) -> Order:
    request.state.merchant_id = body.merchant_id
    try:
        placed = place_order(session, agent.agent_id, body)
    except OrderError as exc:
        raise HTTPException(exc.status_code, detail=exc.detail) from None
    if placed.replayed:
        # Not a new order: no order fields on the usage row, so revenue is not counted twice.
        response.status_code = status.HTTP_200_OK
    else:
        request.state.order_id = placed.order.order_id
        request.state.order_amount = placed.order.amount
    return placed.order


@router.get("/orders/{order_id}", response_model=Order, responses={404: {"model": ErrorBody}})
def read_order(order_id: IdPath, request: Request, agent: AgentDep, session: DbSession) -> Order:
    order = get_order(session, agent.agent_id, order_id)
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"order {order_id!r} not found")
    request.state.merchant_id = order.merchant_id
    return order
