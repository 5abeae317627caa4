"""The one harness that starts the local stack, for the cross-package tests and the benchmarks.

tests/e2e, tests/hardening, tests/test_*.py and benchmarks/ (``benchmarks/common.py`` puts
``tests/`` on ``sys.path``) start the stack only through here: ``LocalStack`` runs ``recs
serve``, ``chalice local`` and ``vite preview`` of one RECS_HOME on free loopback ports, each
in its own process group, so stopping one stops what uv, npx or gunicorn started below it.
"""

from harness.processes import (
    API,
    BIN,
    REPO,
    WEB,
    Reply,
    Service,
    StackError,
    bearer,
    call,
    free_port,
    http_status,
    interrupt,
    port_is_open,
    post_json,
    run_checked,
    stack_env,
    start_interruptible,
    wait_for_output,
)
from harness.stack import (
    FAST_PIPELINE_PARAMS,
    LocalStack,
    Ports,
    WebBuild,
    add_dataset,
    api_service,
    current_model,
    default_home,
    endpoint_service,
    ensure_trained,
    fetched_dataset,
    scratch_stack,
    seed_store,
    web_service,
)

__all__ = [
    "API",
    "BIN",
    "FAST_PIPELINE_PARAMS",
    "REPO",
    "WEB",
    "LocalStack",
    "Ports",
    "Reply",
    "Service",
    "StackError",
    "WebBuild",
    "add_dataset",
    "api_service",
    "bearer",
    "call",
    "current_model",
    "default_home",
    "endpoint_service",
    "ensure_trained",
    "fetched_dataset",
    "free_port",
    "http_status",
    "interrupt",
    "port_is_open",
    "post_json",
    "run_checked",
    "scratch_stack",
    "seed_store",
    "stack_env",
    "start_interruptible",
    "wait_for_output",
    "web_service",
]
