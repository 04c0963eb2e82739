"""FastAPI dependencies that authenticate callers: staff by bearer token, agents by API key.

`require_staff` answers 401 for a missing, malformed, forged or expired token and 403 when the caller
presents a valid agent API key instead (agents may not read staff endpoints). `require_agent` answers 401
for a missing or unknown key and records the agent on `request.state.agent_id` for usage logging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from app.agent_api.keys import agent_for_key, looks_like_agent_key
from app.auth.employees import find_active_employee
from app.auth.tokens import InvalidTokenError, decode_access_token
from app.config import Settings

# auto_error=False: we answer every failure ourselves, as JSON with a consistent message.
_bearer = HTTPBearer(auto_error=False, description="staff access token, or an agent API key on /agent/v1")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="agent API key (amk_...)")

BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
ApiKeyHeader = Annotated[str | None, Depends(_api_key_header)]


@dataclass(frozen=True)
class StaffPrincipal:
    employee_id: int
    email: str
    role: str


@dataclass(frozen=True)
class AgentPrincipal:
    agent_id: str


def signing_secret(request: Request) -> str:
    """The token secret, read once per app (in development it comes from a file in the data folder)."""
    state = request.app.state
    secret: str | None = getattr(state, "jwt_signing_secret", None)
    if secret is None:
        settings: Settings = state.settings
        secret = settings.signing_secret()
        state.jwt_signing_secret = secret
    return secret


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _agent_id_for(request: Request, key: str) -> str | None:
    with _engine(request).connect() as conn:
        return agent_for_key(conn, key)


def require_staff(request: Request, bearer: BearerCredentials, api_key: ApiKeyHeader) -> StaffPrincipal:
    token = bearer.credentials if bearer else None
    agent_key = token if token and looks_like_agent_key(token) else (api_key if not token else None)
    if agent_key:
        if _agent_id_for(request, agent_key) is not None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="agent API keys cannot access staff endpoints"
            )
        raise _unauthorized("invalid credentials")
    if not token:
        raise _unauthorized("not authenticated: send Authorization: Bearer <access token>")
    try:
        claims = decode_access_token(signing_secret(request), token)
    except InvalidTokenError:
        raise _unauthorized("invalid or expired token") from None
    # The account is looked up on every request so a deactivated account or a changed role takes
    # effect at once rather than when the token expires.
    with _engine(request).connect() as conn:
        employee = find_active_employee(conn, claims.employee_id)
    if employee is None:
        raise _unauthorized("invalid or expired token")
    return StaffPrincipal(employee_id=employee.employee_id, email=employee.email, role=employee.role)


StaffDep = Annotated[StaffPrincipal, Depends(require_staff)]


def require_agent(request: Request, bearer: BearerCredentials, api_key: ApiKeyHeader) -> AgentPrincipal:
    key = api_key or (bearer.credentials if bearer else None)
    if not key:
        raise _unauthorized("missing API key: send X-API-Key: <key>")
    agent_id = _agent_id_for(request, key)
    if agent_id is None:
        raise _unauthorized("invalid API key")
    request.state.agent_id = agent_id
    return AgentPrincipal(agent_id=agent_id)


AgentDep = Annotated[AgentPrincipal, Depends(require_agent)]
