"""Ownership without accounts: a user created through the API is written to with its token.

``POST /users`` hands out ``<user_id>.<secret>`` once; the secret is 256 random bits and the
store keeps only a random salt and ``sha256(salt + token)``. A request proves ownership with
``Authorization: Bearer <token>``, checked in constant time. No plain token is ever stored
or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from chalicelib.errors import Forbidden, Unauthorized

SECRET_BYTES = 32  # 256 bits; the floor is 128
_TOKEN = re.compile(r"^([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{16,128})$")
_BEARER = re.compile(r"^Bearer[ \t]+(\S+)[ \t]*$", re.IGNORECASE)


@dataclass(frozen=True)
class TokenRecord:
    """What the store keeps of a token: never the token itself."""

    salt: str
    digest: str


def new_token(user_id: int) -> tuple[str, TokenRecord]:
    """A fresh token for ``user_id`` and the record to store beside the user."""
    token = f"{user_id}.{secrets.token_urlsafe(SECRET_BYTES)}"
    salt = secrets.token_hex(16)
    return token, TokenRecord(salt, _digest(salt, token))


def _digest(salt: str, token: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + token.encode("utf-8")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None when there is none."""
    if not authorization or not authorization.strip():
        return None
    match = _BEARER.match(authorization.strip())
    if not match:
        raise Unauthorized(
            "the Authorization header must be 'Bearer <token>' with the token POST /users returned"
        )
    return match.group(1)


def token_user(token: str | None) -> int | None:
    """The user id a well-formed token names (not yet verified), else None."""
    match = _TOKEN.match(token or "")
    return int(match.group(1)) if match else None


def verify(user_id: int, token: str | None, record: TokenRecord | None, *, source: str) -> None:
    """Allow only the holder of ``user_id``'s token; 401 without a token, 403 with a wrong one.

    Users of the base dataset have no token: whatever token comes, they are read-only (403).
    """
    if token is None:
        raise Unauthorized(
            f"user {user_id} can only be used with its token: send 'Authorization: Bearer "
            "<token>' (POST /users returned it once)"
        )
    if source == "base":
        raise Forbidden(f"user {user_id} belongs to the dataset and is read-only")
    # Compare even for malformed tokens or missing records, so the timing says nothing.
    expected = record.digest if record else "0" * 64
    actual = _digest(record.salt if record else "00" * 16, token)
    matches = hmac.compare_digest(expected, actual)
    if not (matches and record is not None and token_user(token) == user_id):
        raise Forbidden(f"the token does not belong to user {user_id}")
