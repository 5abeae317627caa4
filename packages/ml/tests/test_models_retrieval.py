"""The TFRS models on a small synthetic dataset with a planted preference.

Sixty items in three genres of twenty; each user rates only items of one genre, one after
another. A model that learned anything ranks the user's genre first.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from recs_ml.data.datasets import Item, Ratings
from recs_ml.data.processed import ProcessedData
from recs_ml.data.split import split_protocol
from recs_ml.models.hyperparameters import Hyperparameters
from recs_ml.models.training import train_models
from recs_ml.serving.signature import Recommender

GROUPS = 3
GROUP_SIZE = 20
GENRES = ["Action", "Comedy", "Drama"]

# Tiny and fast: a few seconds of training on 2 cores.
TINY = {
    "embedding_dim": 16,
    "history_length": 6,
    "epochs": 8,
    "batch_size": 64,
    "learning_rate": 0.02,
    "dropout": 0.0,
    "ease_lambdas": "5,50",
    "candidates": 20,
    "ranker_epochs": 2,
}


def group_of(item_id: int) -> int:
    return (item_id - 1) // GROUP_SIZE


def planted_rows(users: int = 90, per_user: int = 12, seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, users + 1):
        group = user % GROUPS
        items = rng.choice(GROUP_SIZE, size=per_user, replace=False) + 1 + group * GROUP_SIZE
        rows += [(user, int(item), 5.0, 1000 * user + t) for t, item in enumerate(items)]
    return rows


def planted_items() -> dict[int, Item]:
    return {
        i: Item(i, f"Movie {i}", 2000, [GENRES[group_of(i)]])
        for i in range(1, GROUPS * GROUP_SIZE + 1)
    }


def planted_data(**kwargs) -> ProcessedData:
    split = split_protocol(Ratings.from_rows(planted_rows(**kwargs)))
    return ProcessedData(
        train=split.train,
        validation=split.validation,
        test=split.test,
        items=planted_items(),
        users={},
        data_checksum="0" * 64,
    )


@pytest.fixture(scope="module")
def trained():
    return train_models(planted_data(), Hyperparameters.parse({**TINY, "ranker": "on"}), log=print)


def top(module, history, k=5, user_id=0):
    out = module.serve(
        user_id=tf.constant([user_id], tf.int64),
        history=tf.constant([history], tf.int64),
        exclude=tf.zeros([1, 1], tf.int64),
        k=tf.constant([k], tf.int32),
    )
    return out["item_ids"].numpy()[0].tolist()


@pytest.mark.parametrize("name", ["retrieval", "tfrs"])
def test_recovers_the_planted_preference(trained, name):
    module = Recommender(trained.scorers[name], trained.item_ids, trained.user_histories)
    in_group = total = 0
    for user, history in trained.user_histories.items():
        for item in top(module, history, k=5, user_id=user):
            in_group += group_of(item) == user % GROUPS
            total += 1
            assert item not in history
    # Chance is 1/3.
    assert in_group / total >= 0.8


def test_new_user_history_changes_recommendations(trained):
    module = Recommender(trained.scorers["tfrs"], trained.item_ids, trained.user_histories)
    action = top(module, [1, 2, 3])
    drama = top(module, [41, 42, 43])
    assert action != drama
    assert sum(group_of(i) == 0 for i in action) >= 4
    assert sum(group_of(i) == 2 for i in drama) >= 4


def test_validation_choices_are_recorded(trained):
    assert trained.chosen["ease_lambda"] in (5.0, 50.0)
    assert 1 <= trained.chosen["retrieval_epochs"] <= TINY["epochs"]
    assert set(trained.validation_metrics) == {"tfrs", "retrieval", "ease", "mostpop"}
    # ranker=on keeps the ranking stage whatever validation says.
    assert trained.chosen["ranker"] is True
    assert (
        trained.validation_metrics["retrieval"]["ndcg@10"]
        > (trained.validation_metrics["mostpop"]["ndcg@10"])
    )


def test_training_is_seeded():
    from recs_ml.models.baselines import Catalog
    from recs_ml.models.fitting import fit_retrieval

    data = planted_data(users=30)
    hp = Hyperparameters.parse({**TINY, "epochs": 1})
    catalog = Catalog(np.arange(1, GROUPS * GROUP_SIZE + 1))
    first = fit_retrieval(catalog, data.train, hp, None, epochs=1)
    second = fit_retrieval(catalog, data.train, hp, None, epochs=1)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
