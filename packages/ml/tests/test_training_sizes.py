"""Hyperparameters that scale with the data, and the training time budget."""

import numpy as np
import pytest

from recs_ml.data.datasets import Ratings
from recs_ml.models.baselines import Catalog
from recs_ml.models.fitting import fit_retrieval
from recs_ml.models.hyperparameters import (
    SIZE_DEFAULTS,
    HyperparameterError,
    Hyperparameters,
    load_hyperparameters,
)
from recs_ml.models.training import final_fit_plan


def test_size_defaults_apply_only_to_values_not_set():
    small = Hyperparameters.parse({}).for_size(100_000)
    assert small == Hyperparameters(stream=False)
    assert Hyperparameters.parse({"stream": "true"}).for_size(100_000).stream
    beer = Hyperparameters.parse({}).for_size(1_500_000)
    assert (beer.epochs, beer.batch_size, beer.stream) == (3, 1024, True)
    assert (beer.learning_rate, beer.history_length, beer.final_fit) == (0.006, 15, "continue")
    huge = Hyperparameters.parse({}).for_size(25_000_000)
    assert (huge.epochs, huge.batch_size, huge.ease_max_items) == (2, 4096, 4000)
    pinned = Hyperparameters.parse({"epochs": "7", "batch_size": 512}).for_size(25_000_000)
    assert (pinned.epochs, pinned.batch_size, pinned.history_length) == (7, 512, 15)
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
    fit_retrieval(catalog, ratings, hp, None, 3, deadline=0.0, timing=timing)
    assert len(timing) == 1  # no second epoch
    last = [line for line in capsys.readouterr().err.splitlines() if "train retrieval" in line]
    assert last and last[-1].startswith("train retrieval: 16/600 examples")


def test_a_refit_the_budget_cannot_hold_continues_the_validated_model():
    assert final_fit_plan("refit", 4, 10.0, float("inf")) == (False, 4)
    assert final_fit_plan("refit", 4, 10.0, 40.0) == (False, 4)
    assert final_fit_plan("refit", 4, 10.0, 39.0) == (True, 1)
    assert final_fit_plan("refit", 4, 10.0, -5.0) == (True, 1)  # budget already spent
    assert final_fit_plan("continue", 4, 10.0, float("inf")) == (True, 1)
    with pytest.raises(HyperparameterError, match="final_fit='again'"):
        load_hyperparameters(["final_fit=again"])


def test_the_final_model_is_never_an_untrained_one_when_time_runs_out():
    """The beer-scale failure: under a time budget the final refit was stopped after a
    batch, and that barely trained model was served (NDCG@10 below MostPop). Continued from
    the validated weights, a final fit stopped just as early still serves a trained model."""
    from recs_ml.data.split import split_protocol, without
    from recs_ml.data.synth import SynthConfig, generate
    from recs_ml.models.evaluation import evaluate_serving
    from recs_ml.models.retrieval import RetrievalScorer
    from recs_ml.serving.signature import Recommender

    split = split_protocol(generate(SynthConfig(ratings=8_000, users=300, items=200, seed=5)))
    fit = without(split.train, split.validation)
    catalog = Catalog(np.unique(np.r_[split.train.item_id, split.test.item_id]))
    hp = Hyperparameters(
        embedding_dim=16, history_length=8, batch_size=128, learning_rate=0.01, dropout=0.0
    )
    popularity = catalog.popularity(split.train)

    def ndcg(model) -> float:
        scorer = RetrievalScorer(model, catalog.n, hp.history_length, popularity)
        module = Recommender(scorer, catalog.item_ids, {})
        return evaluate_serving(module.serve, split.train, split.test, catalog.n - 1)["ndcg@10"]

    from recs_ml.models.baselines import MostPopScorer

    popular = Recommender(MostPopScorer(popularity), catalog.item_ids, {})
    mostpop = evaluate_serving(popular.serve, split.train, split.test, catalog.n - 1)["ndcg@10"]
    validated = fit_retrieval(catalog, fit, hp, None, 3)
    continued = fit_retrieval(
        catalog, split.train, hp, None, 1, deadline=0.0, initial_weights=validated.get_weights()
    )
    cut_refit = fit_retrieval(catalog, split.train, hp, None, 1, deadline=0.0)
    assert ndcg(validated) > mostpop
    assert ndcg(continued) > 0.9 * ndcg(validated)
    assert ndcg(continued) > 2 * ndcg(cut_refit)
