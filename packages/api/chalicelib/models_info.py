"""Plain names and one-line descriptions of the models, for people rather than engineers."""

from __future__ import annotations

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
