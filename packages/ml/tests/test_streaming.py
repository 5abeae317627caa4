"""Training examples streamed from shards are exactly those of the in-memory path."""

import numpy as np
import pytest

from recs_ml.data.datasets import Ratings
from recs_ml.data.embedded import embedded_is_ready
from recs_ml.data.processed import read_processed, shard_paths, write_shards
from recs_ml.data.processing import process
from recs_ml.data.streaming import (
    example_chunks,
    read_shard,
    sequence_examples,
    streamed_dataset,
    target_counts,
)
from recs_ml.models.baselines import Catalog
from recs_ml.models.fitting import user_sequences
from recs_ml.models.retrieval import next_item_examples

LENGTH = 30


def in_memory(catalog, ratings):
    _, sequences = user_sequences(catalog, ratings)
    return next_item_examples(sequences, LENGTH)


def streamed(paths, catalog, without_validation):
    chunks = list(example_chunks(paths, catalog, LENGTH, without_validation))
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])


@pytest.fixture(scope="module")
def ml100k(tmp_path_factory):
    if not embedded_is_ready():
        pytest.skip("MovieLens-100K not fetched (scripts/setup.sh)")
    out = tmp_path_factory.mktemp("processed")
    process("ml-100k", out)
    return read_processed(out)


@pytest.mark.parametrize("without_validation", [False, True])
def test_streamed_examples_equal_in_memory_on_ml100k(ml100k, without_validation):
    catalog = Catalog(np.unique(np.r_[ml100k.train.item_id, ml100k.test.item_id]))
    ratings = ml100k.fit if without_validation else ml100k.train
    paths = ml100k.train_shards
    assert paths, "the process step wrote no shards"
    history, target = streamed(paths, catalog, without_validation)
    expected_history, expected_target = in_memory(catalog, ratings)
    np.testing.assert_array_equal(history, expected_history)
    np.testing.assert_array_equal(target, expected_target)
    counts = target_counts(paths, catalog, without_validation)
    np.testing.assert_array_equal(counts, np.bincount(expected_target, minlength=catalog.n))


def test_tf_data_pipeline_yields_every_example_once(ml100k):
    catalog = Catalog(np.unique(np.r_[ml100k.train.item_id, ml100k.test.item_id]))
    dataset = streamed_dataset(
        ml100k.train_shards, catalog, LENGTH, False, batch_size=4096, seed=0, shuffle=True
    )
    rows = [np.c_[batch["history"], batch["target"]] for batch in dataset.as_numpy_iterator()]
    got = np.concatenate(rows)
    history, target = in_memory(catalog, ml100k.train)
    expected = np.c_[history, target]
    assert got.shape == expected.shape
    # Same multiset of examples, in a shuffled order.
    order = np.lexsort(got.T[::-1])
    expected_order = np.lexsort(expected.T[::-1])
    np.testing.assert_array_equal(got[order], expected[expected_order])
    assert not np.array_equal(got, expected)


def test_shards_hold_whole_users_in_time_order(tmp_path):
    rows = [(u, i, 1.0, 1000 - i) for u in (3, 1, 2) for i in range(1, 8)]
    ratings = Ratings.from_rows(rows)
    paths = write_shards(tmp_path / "shards", ratings, shard_rows=10)
    assert len(paths) == 2  # users 1 and 2 (14 rows) then user 3
    parts = [read_shard(path) for path in paths]
    assert [np.unique(p.user_id).tolist() for p in parts] == [[1, 2], [3]]
    for part in parts:
        same = part.user_id[1:] == part.user_id[:-1]
        assert (np.diff(part.timestamp)[same] >= 0).all()
    assert shard_paths(tmp_path / "nowhere") == []


def test_sequence_examples_window_and_padding():
    users = np.array([1, 1, 1, 1, 2, 2])
    index = np.array([5, 6, 7, 8, 9, 4])
    history, target = sequence_examples(users, index, 2)
    assert target.tolist() == [6, 7, 8, 4]
    assert history.tolist() == [[5, 0], [5, 6], [6, 7], [9, 0]]
