import sqlite3
import threading

import pytest

from recs_contracts.store import (
    API,
    BASE,
    DuplicateRating,
    Movie,
    RatingsStore,
    StoreError,
    StoreUnavailable,
    read_api_ratings,
)

MOVIES = [Movie(1, "Toy Story", 1995, ["Animation"]), Movie(2, "GoldenEye", 1995, ["Action"])]
USERS = [(1, 24, "M", "technician"), (2, 53, "F", "other")]
RATINGS = [(1, 1, 5.0, 100), (1, 2, 3.0, 50), (2, 1, 4.0, 70)]


def never_refuse(*_counts: int) -> None:
    return None


@pytest.fixture
def store(tmp_path):
    store = RatingsStore(tmp_path / "store.db")
    assert store.seed(MOVIES, USERS, RATINGS) is True
    yield store
    store.close()


def test_seeding_is_idempotent_and_first_seen_is_the_oldest_rating(store):
    assert store.seed(MOVIES, USERS, RATINGS) is False
    assert store.is_seeded(2, 2, 3) and not store.is_seeded(2, 2, 4)
    assert store.get_user(1).created_at == 50
    assert store.ratings_by_source() == {BASE: 3}
    assert store.count_movies() == 2 and store.count_users() == 2 and store.count_users(9) == 0


def test_reads_order_as_documented(store):
    assert [r.item_id for r in store.user_ratings(1)] == [2, 1]  # oldest first
    assert store.popular(5) == [(1, 2), (2, 1)]
    assert store.movie_stats(1) == (2, 4.5)
    assert [m.item_id for m, _, _ in store.catalog()] == [1, 2]
    found, total = store.search_movies("eye", 10)
    assert total == 1 and found[0][0] == MOVIES[1]
    users, total = store.list_users("tech", 10, 0)
    assert total == 1 and users[0].user_id == 1 and users[0].ratings_count == 2


def test_api_users_get_the_next_id_and_the_quota_callback_can_refuse(store):
    counts = []

    def admit(count: int) -> None:
        counts.append(count)
        if count >= 1:
            raise PermissionError("full")

    user = store.create_user(30, None, None, 1000, client="c", window=0, admit=admit,
                             token_for=lambda uid: (f"salt{uid}", f"digest{uid}"))  # fmt: skip
    assert (user.user_id, user.source, user.token_salt) == (3, API, "salt3")
    assert store.get_user(3).token_digest == "digest3"
    with pytest.raises(PermissionError):
        store.create_user(30, None, None, 1001, client="c", window=0, admit=admit,
                          token_for=lambda uid: ("s", "d"))  # fmt: skip
    assert counts == [0, 1] and store.count_users() == 3
    store.clear_client_quota()
    store.create_user(None, None, None, 1002, client="c", window=0, admit=never_refuse,
                      token_for=lambda uid: ("s", "d"))  # fmt: skip


def test_ratings_cap_sees_totals_inside_the_transaction_and_duplicates_are_refused(store):
    seen = []
    store.add_rating(
        1, 3, 4.0, 200, since=90, admit=lambda total, recent: seen.append((total, recent))
    )
    assert seen == [(2, 1)]  # ratings at 50 and 100; since 90 only the second
    with pytest.raises(DuplicateRating):
        store.add_rating(1, 3, 2.0, 300, since=0, admit=never_refuse)
    assert store.count_ratings(source=API) == 1 and store.count_ratings(user_id=1) == 3


def test_concurrent_writers_never_share_a_user_id(store):
    ids = []

    def create():
        own = RatingsStore(store.path)
        for _ in range(5):
            user = own.create_user(
                None, None, None, 1, client="x", window=0, admit=never_refuse,
                token_for=lambda uid: ("s", "d"),
            )  # fmt: skip
            ids.append(user.user_id)
        own.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(3, 23))


def test_feedback_and_deleting_an_api_user(store):
    row, new = store.add_feedback(1, 2, "not_interested", 10, since=0, admit=never_refuse)
    assert new and store.add_feedback(1, 2, "not_interested", 11, since=0, admit=never_refuse) == (
        row,
        False,
    )
    assert store.feedback(1) == [row] and store.delete_feedback(1, 2) and not store.feedback(1)
    user = store.create_user(None, None, None, 5, client="c", window=0, admit=never_refuse,
                             token_for=lambda uid: ("s", "d"))  # fmt: skip
    store.add_rating(user.user_id, 1, 4.0, 6, since=0, admit=never_refuse)
    assert store.delete_user(1) == 0 and store.get_user(1) is not None  # dataset users stay
    assert store.delete_user(user.user_id) == 1 and store.get_user(user.user_id) is None


def test_a_missing_store_is_unavailable_with_the_fix(tmp_path):
    with pytest.raises(StoreUnavailable, match="seed.sh"):
        RatingsStore(tmp_path / "nope.db").check()


def test_the_pipeline_reads_api_rows_only_in_user_time_item_order(store):
    store.put_users([(7, None, None, None)], source=API, created_at=1)
    store.put_ratings([(7, 2, 1.0, 9), (7, 1, 2.0, 9), (3, 1, 5.0, 1)], source=API)
    read = read_api_ratings(store.path)
    assert read.ratings == [(3, 1, 5.0, 1), (7, 1, 2.0, 9), (7, 2, 1.0, 9)]
    assert read.users == [(7, None, None, None)]
    with pytest.raises(DuplicateRating):
        store.put_ratings([(7, 2, 3.0, 10)], source=API)
    with pytest.raises(ValueError, match="source"):
        store.put_ratings([(8, 2, 3.0, 10)], source="web")


def test_the_pipeline_reader_rejects_bad_rows_and_schemas(tmp_path, store):
    with pytest.raises(StoreError, match="not found"):
        read_api_ratings(tmp_path / "missing.db")
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE ratings SET item_id = 'x' WHERE user_id = 2")
        db.execute("UPDATE ratings SET source = 'api' WHERE user_id = 2")
    with pytest.raises(StoreError, match="non-integer id"):
        read_api_ratings(store.path)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE ratings SET item_id = 0 WHERE user_id = 2")
    with pytest.raises(StoreError, match="non-positive id"):
        read_api_ratings(store.path)
    with sqlite3.connect(store.path) as db:
        db.execute("ALTER TABLE ratings DROP COLUMN timestamp")
    with pytest.raises(StoreError, match="lacks column"):
        read_api_ratings(store.path)
    (tmp_path / "text.db").write_text("not sqlite")
    with pytest.raises(StoreError, match="not a readable SQLite"):
        read_api_ratings(tmp_path / "text.db")
