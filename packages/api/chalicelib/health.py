"""Health of the API's dependencies."""

from __future__ import annotations


def health_status() -> dict:
    return {"status": "ok"}
