"""Loaders for the three input formats, their errors, and the real MovieLens-100K."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recs_ml.data.datasets import DataError, load_csv, load_dataset, load_grouplens, load_recbole
from recs_ml.data.embedded import FetchError, embedded_is_ready, fetch_embedded
from recs_ml.settings import get_settings


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ well-formed input


def test_csv_with_only_user_and_item_defaults_rating_and_timestamp(tmp_path):
    data = load_csv(write(tmp_path / "r.csv", "item_id,user_id\n10,1\n11,2\n"))
    assert data.ratings.user_id.tolist() == [1, 2]
    assert data.ratings.item_id.tolist() == [10, 11]
    assert data.ratings.rating.tolist() == [1.0, 1.0]
    assert data.ratings.timestamp.tolist() == [0, 0]


def test_recbole_reads_typed_headers_items_and_users(tmp_path):
    write(
        tmp_path / "toy.inter",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t5\t4\t100\n2\t5\t3.5\t90\n",
    )
    write(
        tmp_path / "toy.item",
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        "5\tHeat\t1995\tAction Crime\n",
    )
    write(
        tmp_path / "toy.user",
        "user_id:token\tage:token\tgender:token\toccupation:token\n1\t30\tF\tartist\n",
    )
    data = load_recbole(tmp_path)
    assert data.ratings.rating.tolist() == [4.0, 3.5]
    assert data.ratings.timestamp.tolist() == [100, 90]
    assert data.items[5].title == "Heat" and data.items[5].year == 1995
    assert data.items[5].genres == ["Action", "Crime"]
    assert data.users[1].age == 30 and data.users[1].occupation == "artist"


def test_grouplens_reads_latin1_titles_years_and_genre_flags(tmp_path):
    write(tmp_path / "u.data", "1\t2\t5\t881250949\n")
    flags = "|".join(["0"] * 19)
    item = f"2|Misérables, Les (1995)|01-Jan-1995||http://x|{flags}\n".encode("latin-1")
    item = item.replace(b"|0|0|0\n", b"|1|0|1\n")  # War and ... Western-adjacent flags
    write(tmp_path / "u.item", item)
    write(tmp_path / "u.user", "1|24|M|technician|85711\n")
    data = load_grouplens(tmp_path)
    assert data.ratings.item_id.tolist() == [2]
    assert data.items[2].title == "Misérables, Les"
    assert data.items[2].year == 1995
    assert data.items[2].genres == ["Thriller", "Western"]
    assert data.users[1].gender == "M"


def test_load_dataset_dispatches_on_path(tmp_path):
    write(tmp_path / "g" / "u.data", "1\t2\t5\t1\n")
    write(tmp_path / "c.csv", "user_id,item_id\n1,2\n")
    assert len(load_dataset(tmp_path / "g").ratings) == 1
    assert len(load_dataset(tmp_path / "c.csv").ratings) == 1


# ------------------------------------------------------------------ malformed input


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "missing.csv",
            "user_id,rating\n1,5\n",
            r"missing\.csv, line 1: missing column\(s\) item_id",
        ),
        (
            "badid.csv",
            "user_id,item_id\n1,2\n1,abc\n",
            r"badid\.csv, line 3: item_id 'abc' is not an integer",
        ),
        ("fraction.csv", "user_id,item_id\n1.5,2\n", r"line 2: user_id '1.5' is not an integer"),
        ("empty.csv", "", r"empty\.csv: the file is empty"),
        ("header_only.csv", "user_id,item_id\n", r"header_only\.csv: no ratings after the header"),
        (
            "fields.csv",
            "user_id,item_id,rating\n1,2\n",
            r"line 2: expected 3 comma-separated fields",
        ),
        (
            "rating.csv",
            "user_id,item_id,rating\n1,2,good\n",
            r"line 2: rating 'good' is not a number",
        ),
        (
            "negative.csv",
            "user_id,item_id\n-1,2\n",
            r"line 2: user_id and item_id must be positive",
        ),
        (
            "encoding.csv",
            b"user_id,item_id\n1,2\n\xff\xfe,3\n",
            r"encoding\.csv, line 3: cannot be decoded as utf-8",
        ),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path, name, content, expected):
    with pytest.raises(DataError, match=expected):
        load_csv(write(tmp_path / name, content))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("user_id:token\trating:float\n1\t3\n", r"line 1: missing column\(s\) item_id"),
        ("user_id:token\titem_id:token\n1\tx9\n", r"line 2: item_id 'x9' is not an integer"),
        (
            "user_id:token\titem_id:token\n1\t2\t3\n",
            r"line 2: expected 2 tab-separated fields, found 3",
        ),
        ("", r"the file is empty"),
    ],
)
def test_recbole_errors_name_file_and_line(tmp_path, content, expected):
    with pytest.raises(DataError, match=r"bad\.inter.*" + expected):
        load_recbole(write(tmp_path / "bad.inter", content))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("1\t2\t5\t100\n1\t2\t5\n", r"u\.data, line 2: expected 4 tab-separated fields"),
        ("1\tTwo\t5\t100\n", r"u\.data, line 1: item_id 'Two' is not an integer"),
        ("\n\n", r"u\.data: the file is empty"),
    ],
)
def test_grouplens_errors_name_file_and_line(tmp_path, content, expected):
    write(tmp_path / "u.data", content)
    with pytest.raises(DataError, match=expected):
        load_grouplens(tmp_path)


def test_unknown_path_and_format_are_clear(tmp_path):
    with pytest.raises(DataError, match="no such file or directory"):
        load_dataset(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="unknown format"):
        load_dataset(write(tmp_path / "ratings.xlsx", "x"))
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_dataset(write(tmp_path / "ratings.parquet", "x"))


def test_fetch_without_network_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pip on PATH
    monkeypatch.setattr("sys.executable", str(tmp_path / "no-python"))
    with pytest.raises(FetchError, match="recs data fetch --wheel PATH"):
        fetch_embedded(home=tmp_path)
    with pytest.raises(FetchError, match="recs data fetch"):
        load_dataset("ml-100k", home=tmp_path)


def test_fetch_refuses_a_wheel_with_the_wrong_checksum(tmp_path):
    fake = write(tmp_path / "recbole-1.2.1-py3-none-any.whl", b"PK not really")
    with pytest.raises(FetchError, match="checksum does not match"):
        fetch_embedded(home=tmp_path / "home", wheel=fake)


# ------------------------------------------------------------------ the embedded dataset


@pytest.fixture(scope="module")
def movielens():
    home = get_settings().home
    if not embedded_is_ready(home):
        pytest.fail(f"MovieLens-100K missing from {home}: run scripts/setup.sh")
    return load_dataset("ml-100k")


def test_movielens_100k_counts(movielens):
    assert len(movielens.ratings) == 100_000
    assert movielens.n_users == 943
    assert movielens.n_items == 1_682
    assert len(movielens.items) == 1_682 and len(movielens.users) == 943


def test_movielens_100k_content(movielens):
    toy_story = movielens.items[1]
    assert (toy_story.title, toy_story.year) == ("Toy Story", 1995)
    assert "Animation" in toy_story.genres
    assert set(np.unique(movielens.ratings.rating).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    first = (movielens.ratings.user_id[0], movielens.ratings.item_id[0])
    assert first == (196, 242)
