"""Abuse limits the API enforces itself (the same on SQLite and DynamoDB, locally and on AWS).

- each API user may add at most ``total`` writes of a kind (ratings; feedback when it exists)
  and at most ``per_day`` in one UTC day;
- one client (its source IP) may create at most ``users_per_client_per_hour`` users an hour.

A reached cap is ``429 Too Many Requests`` with ``Retry-After``. The pipeline's processing
step applies the same rating caps (``recs_ml.data.store.screen_api_ratings``) and leaves out users
above them, so a flood that got past the API still does not reach the training data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

DAY = 86400
HOUR = 3600


@dataclass(frozen=True)
class WriteCap:
    """How many writes of one ``kind`` a user may make in total and per UTC day."""

    kind: str  # "ratings" (and "feedback" for a future feedback route)
    total: int
    per_day: int


@dataclass(frozen=True)
class Caps:
    ratings: WriteCap
    feedback: WriteCap
    users_per_client_per_hour: int


class CapReached(Exception):
    """A write would exceed a cap; ``retry_after`` seconds until it frees up (if ever)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def day_window(now: int) -> tuple[int, int]:
    """(start of ``now``'s UTC day, seconds until the next one)."""
    start = now - now % DAY
    return start, start + DAY - now


def hour_window(now: int) -> tuple[int, int]:
    start = now - now % HOUR
    return start, start + HOUR - now


def client_address(
    source_ip: str | None, headers: Mapping[str, str], header: str | None
) -> str | None:
    """The client's address: the first entry of ``header`` (set by the proxy in front of the
    API) when configured and present, else the connection's source address."""
    forwarded = headers.get(header, "") if header else ""
    first = forwarded.split(",", 1)[0].strip()
    return first or source_ip


def client_key(source_ip: str | None) -> str:
    """What the store keeps of a client: a digest of its source IP, never the address."""
    return hashlib.sha256(f"recs-client:{source_ip or 'unknown'}".encode()).hexdigest()[:32]


def check_write(cap: WriteCap, *, total: int, today: int, now: int) -> None:
    """Raise CapReached when one more write would exceed ``cap`` (counts before the write)."""
    if total >= cap.total:
        # Lifetime caps do not reset; a day is the honest earliest retry for a new allowance.
        raise CapReached(
            f"this user has {total} {cap.kind}, the most one user may add ({cap.total})",
            DAY,
        )
    if today >= cap.per_day:
        raise CapReached(
            f"this user added {today} {cap.kind} today, the most per UTC day ({cap.per_day}); "
            "try again tomorrow",
            day_window(now)[1],
        )
