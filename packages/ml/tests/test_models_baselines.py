"""EASE and MostPop against hand computations, and the serving signature's rules."""

import numpy as np
import pytest
import tensorflow as tf

from recs_ml.data.datasets import Ratings
from recs_ml.models.baselines import Catalog, EaseScorer, MostPopScorer, fit_ease
from recs_ml.serving.signature import Recommender, last_items


def call(module, user_ids, histories, excludes, ks):
    width = max(1, *(len(h) for h in histories))
    ex_width = max(1, *(len(e) for e in excludes))
    history = np.zeros((len(histories), width), dtype=np.int64)
    exclude = np.zeros((len(excludes), ex_width), dtype=np.int64)
    for row, items in enumerate(histories):
        history[row, : len(items)] = items
    for row, items in enumerate(excludes):
        exclude[row, : len(items)] = items
    out = module.serve(
        user_id=tf.constant(user_ids, tf.int64),
        history=tf.constant(history),
        exclude=tf.constant(exclude),
        k=tf.constant(ks, tf.int32),
    )
    return out["item_ids"].numpy().tolist(), out["scores"].numpy()


@pytest.fixture
def mostpop():
    # Popularity: 10 -> 3 ratings, 20 -> 2, 30 -> 1, 40 -> 0 (catalog only).
    r = Ratings.from_rows(
        [(1, 10, 5, 1), (2, 10, 5, 1), (3, 10, 5, 1), (1, 20, 5, 2), (2, 20, 5, 2), (3, 30, 5, 3)]
    )
    catalog = Catalog(np.array([10, 20, 30, 40]))
    return Recommender(MostPopScorer(catalog.popularity(r)), catalog.item_ids, {1: [10, 20]})


def test_mostpop_order_and_history_exclusion(mostpop):
    ids, scores = call(mostpop, [0], [[10]], [[]], [3])
    assert ids == [[20, 30, 40]]
    assert scores[0][0] == pytest.approx(np.log1p(2))


def test_exclude_and_unknown_ids(mostpop):
    ids, _ = call(mostpop, [0], [[999, 10]], [[20, 12345]], [2])
    assert ids == [[30, 40]]


def test_known_user_without_history_uses_stored_history(mostpop):
    ids, _ = call(mostpop, [1], [[]], [[]], [2])
    assert ids == [[30, 40]]
    # A history in the request wins over the stored one.
    ids, _ = call(mostpop, [1], [[30]], [[]], [2])
    assert ids == [[10, 20]]


def test_batch_k_is_max_and_rows_independent(mostpop):
    ids, scores = call(mostpop, [0, 0, 1], [[], [10], []], [[], [], [30]], [1, 3, 1])
    assert [len(row) for row in ids] == [3, 3, 3]
    assert ids[0][0] == 10 and ids[1][:3] == [20, 30, 40] and ids[2][0] == 40
    assert scores.dtype == np.float32


@pytest.mark.parametrize("k", [0, 101])
def test_k_out_of_range_is_rejected(mostpop, k):
    with pytest.raises(tf.errors.InvalidArgumentError, match="k must be between 1 and 100"):
        call(mostpop, [0], [[10]], [[]], [k])


def test_ease_matches_per_column_ridge_regression():
    rng = np.random.default_rng(0)
    x = (rng.random((12, 5)) < 0.5).astype(np.float64)
    matrix = np.concatenate([np.zeros((12, 1)), x], axis=1)  # column 0 is padding
    lam = 2.0
    weights = fit_ease(matrix, lam)
    for j in range(5):
        others = [i for i in range(5) if i != j]
        a = x[:, others]
        expected = np.linalg.solve(a.T @ a + lam * np.eye(4), a.T @ x[:, j])
        np.testing.assert_allclose(weights[1:, 1:][others, j], expected, rtol=1e-4, atol=1e-5)
        assert weights[j + 1, j + 1] == 0.0
    assert not weights[0].any() and not weights[:, 0].any()


def test_ease_scores_are_history_times_weights():
    # Users who rate A rate B; nobody rates A and C together.
    rows = [(u, 1, 5, 1) for u in range(1, 6)] + [(u, 2, 5, 2) for u in range(1, 6)]
    rows += [(u, 3, 5, 1) for u in range(6, 9)] + [(u, 4, 5, 2) for u in range(6, 9)]
    r = Ratings.from_rows(rows)
    catalog = Catalog(np.array([1, 2, 3, 4]))
    _, matrix = catalog.interactions(r)
    weights = fit_ease(matrix, 1.0)
    module = Recommender(EaseScorer(weights), catalog.item_ids, {})
    ids, scores = call(module, [0], [[1]], [[]], [3])
    assert ids[0][0] == 2
    assert scores[0][0] == pytest.approx(weights[1, 2])
    with pytest.raises(ValueError, match="positive"):
        fit_ease(matrix, 0.0)


def test_last_items_window():
    history = tf.constant([[5, 6, 7, 8, 0], [0, 3, 0, 4, 0], [0, 0, 0, 0, 0]], tf.int64)
    window = last_items(history, 3).numpy().tolist()
    assert window == [[6, 7, 8], [3, 4, 0], [0, 0, 0]]
    assert last_items(tf.constant([[1, 2]], tf.int64), 4).numpy().tolist() == [[1, 2, 0, 0]]


def _random_ratings(seed=0, users=40, items=12):
    rng = np.random.default_rng(seed)
    rows = [
        (u, i, 4.0, u * 100 + i)
        for u in range(1, users + 1)
        for i in range(1, items + 1)
        if rng.random() < 0.35 + 0.03 * i  # later items more popular
    ]
    return Ratings.from_rows(rows)


def test_capped_ease_with_cap_above_catalog_is_ease():
    from recs_ml.models.baselines import CappedEase, CappedEaseScorer, ease_columns

    r = _random_ratings()
    catalog = Catalog(np.unique(r.item_id))
    _, matrix = catalog.interactions(r)
    _, sparse = catalog.sparse_interactions(r)
    popularity = catalog.popularity(r)
    columns = ease_columns(popularity, 10_000)
    assert columns.tolist() == list(range(1, catalog.n))
    capped = CappedEaseScorer(
        CappedEase(sparse, columns).weights(5.0), columns, catalog.n, popularity
    )
    plain = EaseScorer(fit_ease(matrix, 5.0))
    history = tf.constant([[1, 4, 0], [12, 2, 7], [3, 0, 0]], tf.int64)
    np.testing.assert_allclose(
        capped.scores(history).numpy(), plain.scores(history).numpy(), rtol=1e-4, atol=1e-5
    )
    capped_ids, _ = call(Recommender(capped, catalog.item_ids, {}), [0], [[1, 4]], [[]], [5])
    plain_ids, _ = call(Recommender(plain, catalog.item_ids, {}), [0], [[1, 4]], [[]], [5])
    assert capped_ids == plain_ids


def test_capped_ease_keeps_the_popular_items_and_ranks_the_rest_by_popularity():
    from recs_ml.models.baselines import CappedEase, CappedEaseScorer, ease_columns

    r = _random_ratings(seed=1)
    catalog = Catalog(np.unique(r.item_id))
    _, sparse = catalog.sparse_interactions(r)
    popularity = catalog.popularity(r)
    columns = ease_columns(popularity, 5)
    # The five most rated items, by count.
    assert set(columns.tolist()) == set(np.argsort(-popularity[1:], kind="stable")[:5] + 1)
    weights = CappedEase(sparse, columns).weights(5.0)
    assert weights.shape == (6, 6) and weights.dtype == np.float32
    # The capped model equals EASE fitted on the capped items alone.
    only = sparse[:, columns].toarray()
    expected = fit_ease(np.concatenate([np.zeros((only.shape[0], 1)), only], axis=1), 5.0)
    np.testing.assert_allclose(weights, expected, rtol=1e-4, atol=1e-5)
    scorer = CappedEaseScorer(weights, columns, catalog.n, popularity)
    scores = scorer.scores(tf.constant([[int(columns[0]), 0]], tf.int64)).numpy()[0]
    inside = np.zeros(catalog.n, bool)
    inside[columns] = True
    inside_scores, outside = scores[inside], scores[~inside][1:]  # column 0 is padding
    assert outside.max() < inside_scores.min()
    # Outside the cap, more popular items score higher.
    rest = np.flatnonzero(~inside)[1:]
    order = np.argsort(-outside, kind="stable")
    assert (np.diff(popularity[rest][order]) <= 0).all()
    with pytest.raises(ValueError, match="item cap must be positive"):
        ease_columns(popularity, 0)
