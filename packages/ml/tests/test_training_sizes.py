"""Hyperparameters that scale with the data, and the training time budget."""

import numpy as np
import pytest

from recs_ml.baselines import Catalog
from recs_ml.data import Ratings
from recs_ml.training import (
    SIZE_DEFAULTS,
    HyperparameterError,
    Hyperparameters,
    _fit_retrieval,
    load_hyperparameters,
)


def test_size_defaults_apply_only_to_values_not_set():
    small = Hyperparameters.parse({}).for_size(100_000)
    assert small == Hyperparameters(stream=False)
    assert Hyperparameters.parse({"stream": "true"}).for_size(100_000).stream
    beer = Hyperparameters.parse({}).for_size(1_500_000)
    assert (beer.epochs, beer.batch_size, beer.stream) == (3, 2048, True)
    huge = Hyperparameters.parse({}).for_size(25_000_000)
    assert (huge.epochs, huge.batch_size, huge.ease_max_items) == (2, 4096, 4000)
    pinned = Hyperparameters.parse({"epochs": "7", "batch_size": 512}).for_size(25_000_000)
    assert (pinned.epochs, pinned.batch_size, pinned.history_length) == (7, 512, 20)
    assert SIZE_DEFAULTS[-1][0] == float("inf")  # every size has defaults


def test_time_budget_and_cap_are_checked():
    hp = load_hyperparameters(["max_train_minutes=12.5", "ease_max_items=3000"])
    assert hp.max_train_minutes == 12.5 and hp.ease_max_items == 3000
    assert "explicit" not in hp.as_dict()
    with pytest.raises(HyperparameterError, match="max_train_minutes=-1"):
        load_hyperparameters(["max_train_minutes=-1"])
    with pytest.raises(HyperparameterError, match="ease_max_items=0"):
        load_hyperparameters(["ease_max_items=0"])
    with pytest.raises(HyperparameterError, match="not a hyperparameter"):
        Hyperparameters.parse({"explicit": "x"})


def test_a_passed_deadline_stops_training_after_the_current_batch(capsys):
    rows = [(u, i, 1.0, i) for u in range(1, 21) for i in range(1, 12)]
    ratings = Ratings.from_rows(rows)
    catalog = Catalog(np.unique(ratings.item_id))
    hp = Hyperparameters(epochs=3, batch_size=16, embedding_dim=4, history_length=5)
    timing: list[float] = []
    _fit_retrieval(catalog, ratings, hp, None, 3, deadline=0.0, timing=timing)
    assert len(timing) == 1  # no second epoch
    last = [line for line in capsys.readouterr().err.splitlines() if "train retrieval" in line]
    assert last and last[-1].startswith("train retrieval: 16/600 examples")
