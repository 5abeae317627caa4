"""The synthetic generator: deterministic, realistic shape, planted preferences a model finds."""

import numpy as np
import pytest

from recs_ml.cli.main import main as recs_main
from recs_ml.data.datasets import load_dataset
from recs_ml.data.split import split_protocol
from recs_ml.data.synth import SynthConfig, SynthError, generate, planted_truth, write_synthetic
from recs_ml.models.baselines import Catalog, fit_ease
from recs_ml.models.evaluation import holdout_sets, ranking_metrics

CONFIG = SynthConfig(ratings=30_000, users=1_000, items=600, seed=3)


@pytest.fixture(scope="module")
def ratings():
    return generate(CONFIG)


def columns(r):
    return r.user_id, r.item_id, r.rating, r.timestamp


def test_same_seed_same_data_other_seed_other_data(ratings):
    again = generate(CONFIG)
    for a, b in zip(columns(ratings), columns(again), strict=True):
        np.testing.assert_array_equal(a, b)
    other = generate(SynthConfig(ratings=30_000, users=1_000, items=600, seed=4))
    assert not np.array_equal(other.item_id, ratings.item_id)


def test_shape_counts_power_laws_and_time(ratings):
    assert len(ratings) == CONFIG.ratings
    assert np.unique(ratings.user_id).tolist() == list(range(1, CONFIG.users + 1))
    assert ratings.item_id.min() >= 1 and ratings.item_id.max() <= CONFIG.items
    pairs = ratings.user_id * (CONFIG.items + 1) + ratings.item_id
    assert np.unique(pairs).shape[0] == len(ratings), "a (user, item) pair is repeated"
    per_user = np.bincount(ratings.user_id)[1:]
    assert per_user.min() >= CONFIG.min_user_ratings
    # Power-law activity: the heaviest user rates far more than the typical one.
    assert per_user.max() > 10 * np.median(per_user)
    # Power-law popularity: the top 5% of items hold far more than 5% of the ratings, and
    # the most popular item far more than the median one.
    counts = np.sort(np.bincount(ratings.item_id, minlength=CONFIG.items + 1)[1:])[::-1]
    assert counts[: CONFIG.items // 20].sum() / len(ratings) > 0.125
    assert counts[0] > 5 * np.median(counts)
    assert set(np.unique(ratings.rating).tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    # Each user's ratings come in strictly increasing time.
    same_user = ratings.user_id[1:] == ratings.user_id[:-1]
    assert (np.diff(ratings.timestamp)[same_user] > 0).all()


def test_planted_tastes_and_drift(ratings):
    world = planted_truth(CONFIG)
    cluster = world.item_cluster[ratings.item_id - 1]
    user = ratings.user_id - 1
    in_taste = (world.user_start[user, cluster] > 0) | (world.user_end[user, cluster] > 0)
    # Chance level: how much of the catalog's ratings fall in a random user's tastes.
    rng = np.random.default_rng(0)
    others = rng.integers(0, CONFIG.users, size=len(ratings))
    chance = (world.user_start[others, cluster] > 0) | (world.user_end[others, cluster] > 0)
    assert in_taste.mean() > 0.45 and in_taste.mean() > 2.5 * chance.mean()
    # Drift: a drifting user's new cluster is rated more late in their timeline than early.
    new = (world.user_end > world.user_start + 0.3)[user, cluster]
    start = np.r_[0, np.flatnonzero(ratings.user_id[1:] != ratings.user_id[:-1]) + 1]
    count = np.diff(np.r_[start, len(ratings)])
    position = np.arange(len(ratings)) - np.repeat(start, count)
    late = position >= np.repeat(count, count) / 2
    assert new[late].mean() > 1.5 * new[~late].mean()


def test_a_model_of_the_histories_beats_popularity(ratings):
    """EASE must beat MostPop clearly on the protocol's test split: the tastes are findable."""
    split = split_protocol(ratings)
    catalog = Catalog(np.unique(ratings.item_id))
    users, matrix = catalog.sparse_interactions(split.train)
    dense = matrix.toarray()
    scores = dense @ fit_ease(matrix, 100.0)
    popularity = np.broadcast_to(catalog.popularity(split.train), dense.shape).copy()
    for table in (scores, popularity):
        table[dense > 0] = -np.inf
        table[:, 0] = -np.inf
    relevant = holdout_sets(split.test)

    def top(table):
        return {
            int(u): catalog.item_ids[np.argsort(-table[row], kind="stable")[:10] - 1].tolist()
            for row, u in enumerate(users)
        }

    ease = ranking_metrics(top(scores), relevant, CONFIG.items)["ndcg@10"]
    mostpop = ranking_metrics(top(popularity), relevant, CONFIG.items)["ndcg@10"]
    assert ease > 1.5 * mostpop, (ease, mostpop)


def test_csv_and_parquet_hold_the_same_ratings(tmp_path, ratings):
    csv_summary = write_synthetic(CONFIG, tmp_path / "r.csv")
    write_synthetic(CONFIG, tmp_path / "r.parquet")
    assert csv_summary["ratings"] == CONFIG.ratings
    assert (tmp_path / "r.csv").read_text().splitlines()[0] == "user_id,item_id,rating,timestamp"
    for name in ("r.csv", "r.parquet"):
        loaded = load_dataset(tmp_path / name).ratings
        for a, b in zip(columns(loaded), columns(ratings), strict=True):
            np.testing.assert_array_equal(a, b)
    assert not list(tmp_path.glob("*.part"))


def test_cli_writes_both_formats_and_rejects_bad_sizes(tmp_path, capsys):
    code = recs_main(
        ["data", "synth", "--ratings", "2000", "--users", "100", "--items", "300", "--seed",
         "1", "--output", str(tmp_path / "s.csv"), "--output", str(tmp_path / "s.parquet")]
    )  # fmt: skip
    assert code == 0
    assert len(load_dataset(tmp_path / "s.parquet").ratings) == 2000
    assert len(load_dataset(tmp_path / "s.csv").ratings) == 2000
    code = recs_main(
        ["data", "synth", "--ratings", "10", "--users", "100", "--output", str(tmp_path / "x.csv")]
    )
    assert code == 2
    assert "cannot give each of 100 users" in capsys.readouterr().err
    with pytest.raises(SynthError, match="unknown format"):
        write_synthetic(SynthConfig(ratings=2000, users=100, items=300), tmp_path / "s.json")
