"""scripts/setup.d/seed.sh: creates the store once, then only checks it; clear input errors."""

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import RATINGS, write_dataset

from chalicelib.seed import SeedError, read_dataset
from recs_contracts.store import API, RatingsStore

REPO = Path(__file__).resolve().parents[3]


def _seed_sh(home: Path) -> str:
    done = subprocess.run(
        ["bash", "scripts/setup.d/seed.sh"],
        cwd=REPO,
        env={**os.environ, "RECS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_seed_script_is_idempotent_and_keeps_api_ratings(tmp_path) -> None:
    write_dataset(tmp_path / "data" / "ml-100k")
    assert "seeded in" in _seed_sh(tmp_path)
    with sqlite3.connect(tmp_path / "store.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store = RatingsStore(tmp_path / "store.db")
    store.put_ratings([(5, 6, 4.0, 999)], source=API)  # a person's rating
    assert "already seeded" in _seed_sh(tmp_path)
    assert store.ratings_by_source() == {"api": 1, "base": len(RATINGS)}


def test_missing_dataset_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(SeedError, match="ml-100k.item: not found; run `recs data fetch`"):
        read_dataset(tmp_path)


def test_malformed_line_names_file_and_line(tmp_path) -> None:
    directory = write_dataset(tmp_path / "d")
    inter = directory / "ml-100k.inter"
    inter.write_text(inter.read_text() + "7\tx\t3\t100\n")
    with pytest.raises(SeedError, match=r"ml-100k.inter, line 13: item_id 'x' is not an integer"):
        read_dataset(directory)
    inter.write_text("user_id:token\titem_id:token\n1\n")
    with pytest.raises(SeedError, match="line 2: expected 2 tab-separated fields, found 1"):
        read_dataset(directory)


def test_movies_read_like_the_pipeline_reads_them(tmp_path) -> None:
    """recs_contracts.dataset: GroupLens's "unknown" is no genre; no title is "Item <id>"."""
    directory = write_dataset(tmp_path / "d")
    item = directory / "ml-100k.item"
    item.write_text(item.read_text() + "7\t\t1996\tDrama unknown\n")
    movies = {movie.item_id: movie for movie in read_dataset(directory).movies}
    assert (movies[6].title, movies[6].year, movies[6].genres) == ("Shanghai Triad", None, [])
    assert (movies[7].title, movies[7].year, movies[7].genres) == ("Item 7", 1996, ["Drama"])
