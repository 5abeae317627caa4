"""Plain names and one-line descriptions of the models, for people rather than engineers, and
the GET /models overview that shows them beside the registry's versions."""

from __future__ import annotations

from typing import Any

from chalicelib.endpoint import EndpointStatus
from chalicelib.registry import ModelVersion, finite_numbers

# name -> (display name, one-line description)
MODEL_INFO: dict[str, tuple[str, str]] = {
    "tfrs": (
        "Personal picks",
        "Learns from the order of your ratings what you are likely to watch next, then "
        "re-ranks (TensorFlow Recommenders)",
    ),
    "retrieval": (
        "Personal picks, first pass",
        "The first stage of Personal picks alone, without its re-ranking",
    ),
    "ease": (
        "Similar taste",
        "Movies rated by people who rated what you rated (EASE, a classic baseline)",
    ),
    "mostpop": (
        "Most popular",
        "The most rated movies you have not rated yet; the same list for everyone",
    ),
    "popularity": (
        "Popular now (fallback)",
        "Shown before you rate anything or while the model is unavailable: the most rated movies",
    ),
}
# Models whose picks are popularity alone: no rated movie explains them.
POPULARITY_MODELS = frozenset({"mostpop", "popularity"})


def model_info(name: str) -> dict[str, str]:
    display, description = MODEL_INFO.get(name, (name, "A model the endpoint serves"))
    return {"display_name": display, "description": description}


def models_overview(
    group: str, versions: list[ModelVersion], ping: EndpointStatus
) -> dict[str, Any]:
    """GET /models: the models the endpoint serves (with the serving version's metrics), its
    default, and every registry version with whether it is the one serving."""
    serving = next((v for v in versions if ping.ok and v.version == ping.version), None)
    if serving is None:
        approved = [v for v in versions if v.status == "Approved"]
        serving = approved[-1] if approved else None
    names = list(ping.models) if ping.ok and ping.models else []
    if not names and serving is not None:
        names = sorted(serving.metrics)
    default = ping.default_model if ping.ok else None
    models = []
    for name in names:
        metrics = finite_numbers(serving.metrics.get(name)) if serving else {}
        models.append(
            {
                "name": name,
                **model_info(name),
                "default": name == default,
                "version": serving.version if serving else None,
                "status": serving.status if serving else None,
                "metrics": metrics,
                "metrics_split": serving.metrics_split if serving and metrics else None,
            }
        )
    return {
        "group": group,
        "endpoint": {
            "status": "ok" if ping.ok else "unavailable",
            "version": ping.version if ping.ok else None,
            "default_model": default,
        },
        "models": models,
        "versions": [
            {
                "version": v.version,
                "status": v.status,
                "metrics": v.metrics,
                "metrics_split": v.metrics_split if v.metrics else None,
                "created_at": v.created_at,
                "artifact_uri": v.artifact_uri,
                "serving": ping.ok and v.version == ping.version,
                **({"deploy_error": v.deploy_error} if v.deploy_error else {}),
            }
            for v in versions
        ],
    }
