"""Builds the service from settings and AWS clients; tests swap in their own with ``use``."""

from __future__ import annotations

import threading
from typing import Any

from chalicelib.endpoint import Endpoint, LocalEndpoint, SageMakerEndpoint
from chalicelib.registry import LocalRegistry, Registry, SageMakerRegistry
from chalicelib.service import RecsService
from chalicelib.settings import Settings
from chalicelib.store import Store

_lock = threading.Lock()
_service: RecsService | None = None


def build_service(
    settings: Settings,
    *,
    sagemaker_runtime: Any,
    sagemaker: Any,
    dynamodb: Any,
    s3: Any = None,
) -> RecsService:
    store: Store
    if settings.store == "dynamodb":
        from chalicelib.dynamodb_store import DynamoStore

        store = DynamoStore(dynamodb.Table(settings.ratings_table))
    else:
        from chalicelib.sqlite_store import SqliteStore

        store = SqliteStore(settings.store_path)
    endpoint: Endpoint
    registry: Registry
    if settings.endpoint_name:
        endpoint = SageMakerEndpoint(
            settings.endpoint_name, sagemaker_runtime, sagemaker, settings.default_model
        )
        registry = SageMakerRegistry(sagemaker, settings.model_package_group, s3)
    else:
        endpoint = LocalEndpoint(settings.endpoint_url, settings.endpoint_timeout)
        registry = LocalRegistry(settings.registry_path, settings.model_package_group)
    return RecsService(
        store, endpoint, registry, cache_seconds=settings.cache_seconds, caps=settings.caps
    )


def current(factory: Any) -> RecsService:
    """The process's service, built by ``factory()`` on first use (cold start stays cheap)."""
    global _service
    with _lock:
        if _service is None:
            _service = factory()
            _service.warm()
        return _service


def use(service: RecsService | None) -> None:
    """Replace the process's service (tests), or drop it so the next call rebuilds it."""
    global _service
    with _lock:
        _service = service
