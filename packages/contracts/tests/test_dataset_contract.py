import pytest

from recs_contracts.dataset import DatasetError, count_rows, read_inter, read_items, read_users
from recs_contracts.store import Movie


def write(path, *lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_items_drop_the_unknown_genre_and_fall_back_to_item_titles(tmp_path):
    path = write(
        tmp_path / "d.item",
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq",
        "1\tToy Story\t1995\tAnimation Children's Comedy",
        "267\tunknown\t\tunknown",
        "5\t\t1996\tDrama",
    )
    assert read_items(path) == [
        Movie(1, "Toy Story", 1995, ["Animation", "Children's", "Comedy"]),
        Movie(267, "unknown", None, []),
        Movie(5, "Item 5", 1996, ["Drama"]),
    ]
    assert count_rows(path) == 3


def test_inter_defaults_and_float_timestamps(tmp_path):
    path = write(
        tmp_path / "d.inter",
        "user_id:token\titem_id:token\ttimestamp:float",
        "1\t2\t881250949.0",
        "",
        "3\t4\t",
    )
    assert read_inter(path) == [(1, 2, 1.0, 881250949), (3, 4, 1.0, 0)]


def test_users_fields_are_optional(tmp_path):
    path = write(
        tmp_path / "d.user",
        "user_id:token\tage:token\tgender:token\toccupation:token",
        "1\t24\tM\ttechnician",
        "2\t\t\t",
    )
    assert read_users(path) == [(1, 24, "M", "technician"), (2, None, None, None)]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["user_id:token\titem_id:token", "1\t2.5"], "line 2: item_id '2.5' is not an integer"),
        (["user_id:token\titem_id:token", "1"], "line 2: expected 2 tab-separated fields, found 1"),
        (["user_id:token\titem_id:token", "0\t2"], "line 2: user_id and item_id must be positive"),
        (["user_id:token\ttimestamp:float", "1\t2"], "line 1: missing column(s) item_id"),
        (
            ["user_id:token\titem_id:token\trating:float", "1\t2\tnan"],
            "line 2: rating 'nan' is not a finite",
        ),
        (["user_id:token\titem_id:token"], "no ratings after the header"),
    ],
)
def test_bad_files_name_the_file_and_line(tmp_path, lines, message):
    path = write(tmp_path / "d.inter", *lines)
    with pytest.raises(DatasetError) as caught:
        read_inter(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_missing_empty_and_undecodable_files(tmp_path):
    with pytest.raises(DatasetError, match="file not found"):
        read_inter(tmp_path / "none.inter")
    (tmp_path / "e.inter").write_text("  \n")
    with pytest.raises(DatasetError, match="the file is empty"):
        read_inter(tmp_path / "e.inter")
    (tmp_path / "b.inter").write_bytes(b"user_id\titem_id\n1\t\xff\n")
    with pytest.raises(DatasetError, match="line 2: cannot be decoded as utf-8"):
        read_inter(tmp_path / "b.inter")
