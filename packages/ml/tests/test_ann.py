"""The IVF index served from TensorFlow ops: recall, exclusions, odd lists, fallbacks, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from recs_ml.models.baselines import EaseScorer
from recs_ml.models.ranking import RankedScorer, RelevanceRanker
from recs_ml.serving.ann import AverageHistoryScorer, IndexedRecommender, IvfIndex
from recs_ml.serving.ivf import (
    IndexBuildError,
    IvfLayout,
    blocked_layout,
    build_ivf,
    build_layout,
    default_nlist,
    exact_top,
    recall,
    search_layout,
    tune_nprobe,
)
from recs_ml.serving.signature import Recommender, recommend_batch

ITEMS = 3000
DIM = 16


def clustered(items: int, dim: int, seed: int) -> np.ndarray:
    """Item vectors around 30 centres, like learned embeddings of genres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((30, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, 30, items)]
    return (vectors + 0.4 * rng.standard_normal((items, dim))).astype(np.float32)


@pytest.fixture(scope="module")
def catalog():
    vectors = clustered(ITEMS, DIM, seed=7)
    item_ids = np.arange(1, ITEMS + 1, dtype=np.int64) * 10  # ids are not catalog indices
    scorer = AverageHistoryScorer(vectors, length=5)
    rng = np.random.default_rng(3)
    histories = [sorted(rng.choice(item_ids, 3, replace=False).tolist()) for _ in range(120)]
    return vectors, item_ids, scorer, histories


def user_vectors(scorer, histories):
    indices = tf.constant([[i // 10 for i in h] for h in histories], tf.int64)
    return scorer.user_vectors(indices)[0].numpy()


@pytest.fixture(scope="module")
def indexed(catalog):
    vectors, item_ids, scorer, histories = catalog
    layout, parameters = build_ivf(
        vectors, user_vectors(scorer, histories[:60]), target_recall=0.95, log=lambda _: None
    )
    module = IndexedRecommender(scorer, IvfIndex(layout, parameters.nprobe), item_ids, {})
    return module, parameters


def test_recall_against_exact_on_a_seeded_catalog(catalog, indexed):
    _, item_ids, scorer, histories = catalog
    module, parameters = indexed
    assert 1 <= parameters.nprobe < parameters.nlist  # a real approximation, not every list
    reference = Recommender(scorer, item_ids, {})  # a tf.function holds its module weakly
    exact = recommend_batch(reference.serve, histories[60:], 10)
    found = recommend_batch(module.serve, histories[60:], 10)
    hits = sum(len(set(a) & set(b)) for a, b in zip(exact, found, strict=True))
    assert hits / (10 * len(exact)) >= 0.9
    # The index answers with real catalog ids, never the history.
    for history, answer in zip(histories[60:], found, strict=True):
        assert set(answer) <= set(item_ids.tolist())
        assert not set(answer) & set(history)


def test_exclude_never_returns_an_excluded_item_even_a_nearest_neighbour(catalog, indexed):
    _, item_ids, scorer, histories = catalog
    module, _ = indexed
    reference = Recommender(scorer, item_ids, {})
    exact = recommend_batch(reference.serve, histories[:20], 10)
    # Excluding the exact top 10 removes the nearest neighbours the index would find first.
    found = recommend_batch(module.serve, histories[:20], 10, exclude=exact)
    for nearest, answer in zip(exact, found, strict=True):
        assert len(answer) == 10
        assert not set(answer) & set(nearest)


def hand_layout() -> tuple[IvfLayout, np.ndarray]:
    """Four lists on a line: list 1 is empty, list 2 holds one item, 0 and 3 hold three."""
    vectors = np.array(
        [[1.0, 0.0], [1.1, 0.1], [0.9, -0.1], [0.0, 1.0], [-1.0, 0.0], [-1.1, 0.1], [-0.9, 0.0]],
        dtype=np.float32,
    )
    centroids = np.array([[1.0, 0.0], [5.0, 5.0], [0.0, 1.0], [-1.0, 0.0]], dtype=np.float32)
    offsets = np.array([0, 3, 3, 4, 7], dtype=np.int64)
    order = np.arange(7, dtype=np.int64)
    return IvfLayout(centroids, offsets, order, vectors[order]), vectors


def test_empty_and_one_item_lists_are_searched_correctly():
    layout, vectors = hand_layout()
    stacked, items, list_blocks = blocked_layout(layout, block=2)
    assert list_blocks.tolist() == [1, 3, 3, 4, 6]  # the empty list owns no block
    assert items[0].tolist() == [0, 0]  # block 0 pads
    assert sorted(items[items > 0].tolist()) == list(range(1, 8))
    index = IvfIndex(layout, nprobe=2, block=2)
    # [5, 5] probes the empty list 1 and list 0; [0, 1] the empty list 1 and the one-item list 2.
    found, scores = index.search(tf.constant([[5.0, 5.0], [0.0, 1.0]]))
    found = found.numpy()
    assert sorted(found[0][found[0] > 0].tolist()) == [1, 2, 3]
    assert found[1][found[1] > 0].tolist() == [4]
    real = scores.numpy()[0][found[0] > 0]
    np.testing.assert_allclose(np.sort(real), np.sort(vectors[:3] @ [5.0, 5.0]), rtol=1e-6)


def test_k_larger_than_the_gathered_candidates_falls_back_to_exact():
    layout, vectors = hand_layout()
    item_ids = np.arange(101, 108, dtype=np.int64)
    scorer = AverageHistoryScorer(vectors, length=3)
    module = IndexedRecommender(scorer, IvfIndex(layout, nprobe=1, block=2), item_ids, {})
    exact = Recommender(scorer, item_ids, {})
    # The user [1, 0] probes only list 1, which is empty (its centroid [5, 5] scores highest).
    for k in (1, 5, 100):
        answer = recommend_batch(module.serve, [[101]], k)
        assert answer == recommend_batch(exact.serve, [[101]], k)
    assert recommend_batch(module.serve, [[101]], 2) == [[102, 103]]
    # Probing list 0 too: its two non-history items answer k = 2 without the fallback, and
    # k = 3 needs more than the probed lists hold.
    wider = IndexedRecommender(scorer, IvfIndex(layout, nprobe=2, block=2), item_ids, {})
    assert recommend_batch(wider.serve, [[101]], 2) == [[102, 103]]
    assert recommend_batch(wider.serve, [[101]], 3) == recommend_batch(exact.serve, [[101]], 3)
    assert recommend_batch(wider.serve, [[101]], 100) == recommend_batch(exact.serve, [[101]], 100)


def test_a_new_user_without_history_gets_the_exact_fallback(catalog, indexed):
    _, item_ids, scorer, _ = catalog
    module, _ = indexed
    exact = Recommender(scorer, item_ids, {})
    assert recommend_batch(module.serve, [[]], 10) == recommend_batch(exact.serve, [[]], 10)


def test_identical_answers_and_signature_after_save_and_load(catalog, indexed, tmp_path):
    _, item_ids, scorer, histories = catalog
    module, _ = indexed
    module.save(str(tmp_path / "ivf"))
    Recommender(scorer, item_ids, {}).save(str(tmp_path / "exact"))
    loaded = tf.saved_model.load(str(tmp_path / "ivf")).signatures["serving_default"]
    reference = tf.saved_model.load(str(tmp_path / "exact")).signatures["serving_default"]
    assert loaded.structured_input_signature == reference.structured_input_signature
    assert loaded.structured_outputs.keys() == reference.structured_outputs.keys()
    for name, spec in reference.structured_outputs.items():
        assert loaded.structured_outputs[name].dtype == spec.dtype
    requests = histories[:30] + [[]]
    assert recommend_batch(loaded, requests, 10) == recommend_batch(module.serve, requests, 10)


def test_ranked_scorer_reranks_the_index_candidates(catalog):
    vectors, item_ids, scorer, histories = catalog
    n = ITEMS + 1
    tf.keras.utils.set_random_seed(0)
    ranker = RelevanceRanker(hidden=8)
    popularity = tf.Variable(np.log1p(np.arange(n, dtype=np.float32)), trainable=False)
    ease = EaseScorer(np.zeros((n, n), np.float32))
    ranked = RankedScorer(scorer, ease, popularity, ranker, candidates=30)
    layout = build_layout(vectors, 16, seed=1)
    # Probing every list gathers every item: the index path must equal the exact one.
    module = IndexedRecommender(ranked, IvfIndex(layout, nprobe=16), item_ids, {})
    exact = Recommender(ranked, item_ids, {})
    requests = histories[:15]
    assert recommend_batch(module.serve, requests, 10) == recommend_batch(exact.serve, requests, 10)
    retrieval = Recommender(scorer, item_ids, {})
    retrieval_only = recommend_batch(retrieval.serve, requests, 10)
    assert recommend_batch(module.serve, requests, 10) != retrieval_only  # re-ordered


def test_bad_parameters_are_clear_errors():
    vectors = clustered(100, 4, seed=0)
    with pytest.raises(IndexBuildError, match="nlist must be between 1 and the 100 items"):
        build_layout(vectors, 101)
    with pytest.raises(IndexBuildError, match="NaN"):
        build_layout(np.full((10, 4), np.nan, np.float32), 2)
    layout = build_layout(vectors, 4)
    with pytest.raises(IndexBuildError, match="nprobe must be between 1 and nlist=4"):
        IvfIndex(layout, nprobe=5)
    with pytest.raises(IndexBuildError, match="target recall"):
        build_ivf(vectors, vectors[:5], target_recall=1.5, log=lambda _: None)
    assert default_nlist(1_000_000) == 4096
    assert default_nlist(10) == 1


@pytest.mark.parametrize("target", [0.8, 0.95, 0.99])
def test_tuned_nprobe_is_the_smallest_to_within_a_sixteenth(catalog, target):
    vectors, _, scorer, histories = catalog
    queries = user_vectors(scorer, histories)
    layout = build_layout(vectors, nlist=64, seed=0)
    nprobe, found = tune_nprobe(layout, vectors, queries, target)
    truth = exact_top(vectors, queries)

    def measured(probes):
        return recall(search_layout(layout, queries, probes), truth)

    assert found == measured(nprobe) >= target
    # One step (1/16 of the bracketing power of two, at least 1) fewer misses the target.
    step = max(1, 2 ** int(np.ceil(np.log2(nprobe))) // 16)
    assert nprobe == 1 or measured(max(1, nprobe - step)) < target


def test_tuning_an_unreachable_recall_probes_every_list(catalog):
    vectors, _, scorer, histories = catalog
    layout = build_layout(vectors, nlist=8, seed=0)
    nprobe, found = tune_nprobe(layout, vectors, user_vectors(scorer, histories), 1.01)
    assert nprobe == layout.nlist and found <= 1.0
