"""Staff access tokens: JWTs signed with HS256, the algorithm pinned when reading them back.

Pinning the algorithm list on decode is what makes `alg: none` and algorithm-confusion tokens fail;
requiring `exp`, `iss` and `aud` makes a token minted for something else (or without expiry) useless here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "agent-metrics"
AUDIENCE = "agent-metrics-staff"
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "role"]
# Clock skew between replicas that we forgive when checking exp/iat.
_LEEWAY = timedelta(seconds=10)


class InvalidTokenError(Exception):
    """The token is malformed, forged, expired or meant for another audience. The reason stays internal."""


@dataclass(frozen=True)
class TokenClaims:
    employee_id: int
    role: str
    expires_at: datetime


def issue_access_token(secret: str, employee_id: int, role: str, ttl_seconds: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(employee_id),
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(secret: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=_LEEWAY,
            options={"require": _REQUIRED_CLAIMS},
        )
        return TokenClaims(
            employee_id=int(claims["sub"]),
            role=str(claims["role"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidTokenError(type(exc).__name__) from None
