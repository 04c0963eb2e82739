"""`POST /auth/signin` (email and password for a bearer token) and `GET /auth/me`."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from app.auth.deps import StaffDep, signing_secret
from app.auth.employees import find_employee_by_email, update_password_hash
from app.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    burn_verification_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from app.auth.throttle import DEFAULT_POLICY, ThrottlePolicy, clear_attempts, register_attempt
from app.auth.tokens import issue_access_token
from app.config import Settings

router = APIRouter(prefix="/auth", tags=["auth"])

# One answer for every bad credential (unknown email, wrong password, disabled account), so a caller
# cannot tell which one it was.
BAD_CREDENTIALS = "invalid email or password"


class SigninRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    # No NUL characters: PostgreSQL text cannot hold them, so they could never match an account.
    email: str = Field(min_length=1, max_length=320, pattern=r"^[^\x00]+$")
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH, pattern=r"^[^\x00]+$")


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int
    role: str


class Principal(BaseModel):
    employee_id: int
    email: str
    role: str


class ErrorBody(BaseModel):
    detail: str


@router.post(
    "/signin",
    response_model=TokenResponse,
    responses={401: {"model": ErrorBody}, 429: {"model": ErrorBody, "description": "too many attempts"}},
)
def signin(body: SigninRequest, request: Request) -> TokenResponse:
    engine: Engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    policy: ThrottlePolicy = getattr(request.app.state, "signin_throttle_policy", DEFAULT_POLICY)

    retry_after = register_attempt(engine, body.email, policy)
    if retry_after is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many sign-in attempts for this account; try again later",
            headers={"Retry-After": str(retry_after)},
        )

    with engine.connect() as conn:
        employee = find_employee_by_email(conn, body.email)
    if employee is None:
        burn_verification_time(body.password)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=BAD_CREDENTIALS)
    if not verify_password(employee.password_hash, body.password) or not employee.is_active:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=BAD_CREDENTIALS)

    if needs_rehash(employee.password_hash):
        with engine.begin() as conn:
            update_password_hash(conn, employee.employee_id, hash_password(body.password))
    clear_attempts(engine, body.email, policy)
    token = issue_access_token(
        signing_secret(request), employee.employee_id, employee.role, settings.access_token_ttl_seconds
    )
    return TokenResponse(access_token=token, expires_in=settings.access_token_ttl_seconds, role=employee.role)


@router.get("/me", response_model=Principal, responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})
def me(staff: StaffDep) -> Principal:
    return Principal(employee_id=staff.employee_id, email=staff.email, role=staff.role)
