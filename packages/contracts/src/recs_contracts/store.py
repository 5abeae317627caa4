"""The ratings store (``RECS_HOME/store.db``, SQLite, WAL): its schema and its one reader/writer.

The API writes it through :class:`RatingsStore` (one connection per thread; every write one
``BEGIN IMMEDIATE`` transaction, so concurrent writers queue on the lock instead of losing a
rating or handing out the same new user id twice). The pipeline reads the ratings people added
through the API with :func:`read_api_ratings` (read-only, validated). The API's own policies
(caps, tokens) stay in the API: the writer takes them as callbacks run inside the transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recs_contracts.sqlite import immediate

BASE = "base"  # rows of the seeded dataset
API = "api"  # rows people added through the API
NOT_INTERESTED = "not_interested"

SCHEMA = """
CREATE TABLE IF NOT EXISTS users   (user_id INTEGER PRIMARY KEY, age INTEGER, gender TEXT,
                                    occupation TEXT, source TEXT NOT NULL,
                                    created_at INTEGER NOT NULL,
                                    token_salt TEXT, token_digest TEXT);
CREATE TABLE IF NOT EXISTS ratings (user_id INTEGER NOT NULL, item_id INTEGER NOT NULL,
                                    rating REAL NOT NULL, timestamp INTEGER NOT NULL,
                                    source TEXT NOT NULL, PRIMARY KEY (user_id, item_id));
CREATE TABLE IF NOT EXISTS movies  (item_id INTEGER PRIMARY KEY, title TEXT NOT NULL,
                                    year INTEGER, genres TEXT NOT NULL);
-- Covering index: popularity, per-movie stats and similarity read ratings by movie.
CREATE INDEX IF NOT EXISTS ratings_by_item ON ratings (item_id, rating);
-- Users created per client (a digest of its IP) per hour; rows of past hours are dropped.
CREATE TABLE IF NOT EXISTS client_quota (client TEXT NOT NULL, window INTEGER NOT NULL,
                                         count INTEGER NOT NULL, PRIMARY KEY (client, window));
-- A user's "not interested" marks: never recommended to them again; not read by retraining.
CREATE TABLE IF NOT EXISTS feedback (user_id INTEGER NOT NULL, item_id INTEGER NOT NULL,
                                     kind TEXT NOT NULL, timestamp INTEGER NOT NULL,
                                     PRIMARY KEY (user_id, item_id));
"""
# Stores created before tokens existed gain the columns (their API users stay read-only).
_MIGRATIONS = (
    ("users", "token_salt", "ALTER TABLE users ADD COLUMN token_salt TEXT"),
    ("users", "token_digest", "ALTER TABLE users ADD COLUMN token_digest TEXT"),
)
# What a reader of API ratings needs; older stores may lack the later tables.
_REQUIRED = {
    "ratings": {"user_id", "item_id", "rating", "timestamp", "source"},
    "users": {"user_id", "age", "gender", "occupation", "source"},
}
# Read-only readers wait this long for the API's writes.
READ_TIMEOUT = 30.0


class StoreError(ValueError):
    """The store's content cannot be used: missing file, wrong schema or invalid rows."""


class StoreUnavailable(RuntimeError):
    """The store cannot be reached or is not set up; the message says how to fix it."""


class DuplicateRating(Exception):
    """The user already rated this movie."""


@dataclass(frozen=True)
class Movie:
    item_id: int
    title: str
    year: int | None
    genres: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "title": self.title, "year": self.year,
                "genres": list(self.genres)}  # fmt: skip


@dataclass(frozen=True)
class RatingRow:
    user_id: int
    item_id: int
    rating: float
    timestamp: int
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "item_id": self.item_id, "rating": self.rating,
                "timestamp": self.timestamp, "source": self.source}  # fmt: skip


@dataclass(frozen=True)
class FeedbackRow:
    """A user's mark on a movie; the only kind is ``not_interested``."""

    user_id: int
    item_id: int
    kind: str
    timestamp: int

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "item_id": self.item_id, "kind": self.kind,
                "timestamp": self.timestamp}  # fmt: skip


@dataclass(frozen=True)
class StoredUser:
    """A ``users`` row with its ratings count; the token columns only for API users."""

    user_id: int
    age: int | None
    gender: str | None
    occupation: str | None
    source: str
    created_at: int
    ratings_count: int
    token_salt: str | None = field(default=None, repr=False)
    token_digest: str | None = field(default=None, repr=False)


# One catalog entry with its rating count and mean rating (None when nobody rated it).
CatalogEntry = tuple[Movie, int, float | None]
# (user_id, age, gender, occupation) of a dataset user.
UserFeatures = tuple[int, int | None, str | None, str | None]
# (user_id, item_id, rating, timestamp)
Rating = tuple[int, int, float, int]


def genres_json(genres: Iterable[str]) -> str:
    return json.dumps(list(genres))


_PROFILE = (
    "SELECT u.user_id, u.age, u.gender, u.occupation, u.source, u.created_at, "
    "(SELECT COUNT(*) FROM ratings r WHERE r.user_id = u.user_id), u.token_salt, "
    "u.token_digest FROM users u"
)


def _user(row: tuple) -> StoredUser:
    return StoredUser(*row)


def _movie(row: tuple) -> Movie:
    return Movie(row[0], row[1], row[2], json.loads(row[3]))


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class RatingsStore:
    """The API's reader and writer of ``store.db``; one connection per thread."""

    def __init__(self, path: Path | str, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()

    # ----------------------------------------------------------------------------- plumbing

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        if not self.path.is_file():
            raise StoreUnavailable(
                f"ratings store {self.path} does not exist; run scripts/setup.d/seed.sh "
                "(or python -m chalicelib.seed) to create it"
            )
        try:
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            connection.execute("PRAGMA journal_mode = WAL")
            # FULL: a rating acknowledged with 201 survives a power cut, not only a crash.
            connection.execute("PRAGMA synchronous = FULL")
            _migrate(connection)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"ratings store {self.path}: {exc}") from None
        self._local.connection = connection
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            with immediate(self._connect()) as connection:
                yield connection
        except sqlite3.IntegrityError:
            raise  # a constraint the caller turns into a client error (duplicate rating)
        except sqlite3.DatabaseError as exc:
            # Still locked after the busy timeout, a full disk, a damaged file: not a bug here.
            raise StoreUnavailable(f"ratings store {self.path}: {exc}") from None

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self._connect().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(f"ratings store {self.path}: {exc}") from None

    def create_schema(self) -> None:
        """Create the file and every table (idempotent; older stores gain what they lack)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=self.timeout)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(SCHEMA)
            _migrate(connection)
        finally:
            connection.close()

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # ----------------------------------------------------------------------------- reading

    def check(self) -> None:
        """Raise StoreUnavailable unless the store is reachable and seeded."""
        if self.count_movies() == 0:
            raise StoreUnavailable(
                f"ratings store {self.path} has no movies; run scripts/setup.d/seed.sh"
            )

    def count_movies(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM movies")[0][0])

    def count_users(self, user_id: int | None = None) -> int:
        """Every user, or 0/1: whether ``user_id`` exists."""
        if user_id is None:
            return int(self._read("SELECT COUNT(*) FROM users")[0][0])
        return int(self._read("SELECT COUNT(*) FROM users WHERE user_id = ?", (user_id,))[0][0])

    def count_ratings(self, *, source: str | None = None, user_id: int | None = None) -> int:
        """Ratings, of one ``source`` and/or one user when given."""
        where, params = _where(source=source, user_id=user_id)
        return int(self._read("SELECT COUNT(*) FROM ratings" + where, params)[0][0])

    def ratings_by_source(self) -> dict[str, int]:
        rows = self._read("SELECT source, COUNT(*) FROM ratings GROUP BY source ORDER BY source")
        return {str(source): int(count) for source, count in rows}

    def list_users(
        self, query: str, limit: int, offset: int, include: int | None = None
    ) -> tuple[list[StoredUser], int]:
        """Dataset users whose id starts with or occupation contains ``query`` (and the user
        ``include``), by id; with the total count."""
        where = " WHERE (u.source = 'base' OR u.user_id = ?)"
        params: tuple[str | int, ...] = (include or 0,)
        if query:
            where += (
                " AND (CAST(u.user_id AS TEXT) LIKE ? ESCAPE '\\' "
                "OR u.occupation LIKE ? ESCAPE '\\')"
            )
            escaped = _like(query)[1:]  # prefix match on the id
            params = (*params, escaped, _like(query))
        total = self._read("SELECT COUNT(*) FROM users u" + where, params)[0][0]
        rows = self._read(
            _PROFILE + where + " ORDER BY u.user_id LIMIT ? OFFSET ?", (*params, limit, offset)
        )
        return [_user(row) for row in rows], int(total)

    def get_user(self, user_id: int) -> StoredUser | None:
        rows = self._read(_PROFILE + " WHERE u.user_id = ?", (user_id,))
        return _user(rows[0]) if rows else None

    def user_ratings(self, user_id: int) -> list[RatingRow]:
        """The user's ratings, oldest first (timestamp, item_id); values as stored."""
        rows = self._read(
            "SELECT user_id, item_id, rating, timestamp, source FROM ratings "
            "WHERE user_id = ? ORDER BY timestamp, item_id",
            (user_id,),
        )
        return [RatingRow(*row) for row in rows]

    def all_ratings(self, *, except_user: int | None = None) -> list[RatingRow]:
        """Every rating (but ``except_user``'s), by (user_id, item_id)."""
        where = "" if except_user is None else " WHERE user_id != ?"
        params = () if except_user is None else (except_user,)
        rows = self._read(
            "SELECT user_id, item_id, rating, timestamp, source FROM ratings"
            + where
            + " ORDER BY user_id, item_id",
            params,
        )
        return [RatingRow(*row) for row in rows]

    def get_movies(self, item_ids: Iterable[int]) -> dict[int, Movie]:
        ids = sorted(set(item_ids))
        found: dict[int, Movie] = {}
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._read(
                f"SELECT item_id, title, year, genres FROM movies WHERE item_id IN ({marks})",
                tuple(chunk),
            ):
                found[row[0]] = _movie(row)
        return found

    def movie_stats(self, item_id: int) -> tuple[int, float | None]:
        """(ratings count, mean rating) of one movie."""
        count, mean = self._read(
            "SELECT COUNT(*), AVG(rating) FROM ratings WHERE item_id = ?", (item_id,)
        )[0]
        return int(count), (None if mean is None else float(mean))

    def search_movies(self, query: str, limit: int) -> tuple[list[CatalogEntry], int]:
        """Movies whose title contains ``query``, most rated first, with count and mean."""
        where: str = ""
        params: tuple[str, ...] = ()
        if query:
            where, params = " WHERE m.title LIKE ? ESCAPE '\\'", (_like(query),)
        total = self._read("SELECT COUNT(*) FROM movies m" + where, params)[0][0]
        rows = self._read(
            "SELECT m.item_id, m.title, m.year, m.genres, "
            "(SELECT COUNT(*) FROM ratings r WHERE r.item_id = m.item_id) AS n, "
            "(SELECT AVG(rating) FROM ratings r WHERE r.item_id = m.item_id) "
            f"FROM movies m{where} ORDER BY n DESC, m.item_id LIMIT ?",
            (*params, limit),
        )
        return [(_movie(row[:4]), int(row[4]), row[5]) for row in rows], int(total)

    def popular(self, limit: int) -> list[tuple[int, int]]:
        """(item_id, ratings count), most rated first."""
        rows = self._read(
            "SELECT item_id, COUNT(*) AS n FROM ratings GROUP BY item_id "
            "ORDER BY n DESC, item_id LIMIT ?",
            (limit,),
        )
        return [(int(item), int(count)) for item, count in rows]

    def iter_ratings(self) -> Iterator[tuple[int, int]]:
        """Every (user_id, item_id) pair, for item-item similarity."""
        for user_id, item_id in self._read("SELECT user_id, item_id FROM ratings"):
            yield int(user_id), int(item_id)

    def catalog(self) -> list[CatalogEntry]:
        """Every movie with its ratings count and mean, most rated first (ties: lower id)."""
        rows = self._read(
            "SELECT m.item_id, m.title, m.year, m.genres, COUNT(r.item_id) AS n, AVG(r.rating) "
            "FROM movies m LEFT JOIN ratings r ON r.item_id = m.item_id "
            "GROUP BY m.item_id ORDER BY n DESC, m.item_id"
        )
        return [(_movie(row[:4]), int(row[4]), row[5]) for row in rows]

    def feedback(self, user_id: int) -> list[FeedbackRow]:
        """The user's not-interested marks, newest first (timestamp, then item_id)."""
        rows = self._read(
            "SELECT user_id, item_id, kind, timestamp FROM feedback WHERE user_id = ? "
            "ORDER BY timestamp DESC, item_id DESC",
            (user_id,),
        )
        return [FeedbackRow(*row) for row in rows]

    # ----------------------------------------------------------------------------- writing

    def create_user(
        self,
        age: int | None,
        gender: str | None,
        occupation: str | None,
        now: int,
        *,
        client: str,
        window: int,
        admit: Callable[[int], None],
        token_for: Callable[[int], tuple[str, str]],
    ) -> StoredUser:
        """A new API user with the id above every existing one (docs/contracts.md).

        ``admit(count)`` sees how many users ``client`` created since ``window`` and raises to
        refuse; ``token_for(user_id)`` gives the (salt, digest) stored beside the user.
        """
        with self._write() as connection:
            connection.execute("DELETE FROM client_quota WHERE window < ?", (window,))
            row = connection.execute(
                "SELECT count FROM client_quota WHERE client = ? AND window = ?", (client, window)
            ).fetchone()
            admit(int(row[0]) if row else 0)
            connection.execute(
                "INSERT INTO client_quota (client, window, count) VALUES (?, ?, 1) "
                "ON CONFLICT (client, window) DO UPDATE SET count = count + 1",
                (client, window),
            )
            user_id = connection.execute(
                "SELECT COALESCE(MAX(user_id), 0) + 1 FROM users"
            ).fetchone()[0]
            salt, digest = token_for(user_id)
            connection.execute(
                "INSERT INTO users (user_id, age, gender, occupation, source, created_at, "
                "token_salt, token_digest) VALUES (?, ?, ?, ?, 'api', ?, ?, ?)",
                (user_id, age, gender, occupation, now, salt, digest),
            )
        return StoredUser(user_id, age, gender, occupation, API, now, 0, salt, digest)

    def clear_client_quota(self) -> None:
        """Forget how many users every client created (a fresh hour for everyone)."""
        with self._write() as connection:
            connection.execute("DELETE FROM client_quota")

    def delete_user(self, user_id: int) -> int:
        """Remove an API user with its ratings and feedback; the number of ratings removed.
        Dataset users are never removed."""
        with self._write() as connection:
            removed = connection.execute(
                "DELETE FROM ratings WHERE user_id = ? AND source = 'api'", (user_id,)
            ).rowcount
            is_api = connection.execute(
                "SELECT 1 FROM users WHERE user_id = ? AND source = 'api'", (user_id,)
            ).fetchone()
            if is_api:
                connection.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,))
            connection.execute("DELETE FROM users WHERE user_id = ? AND source = 'api'", (user_id,))
        return int(removed)

    def add_rating(
        self,
        user_id: int,
        item_id: int,
        rating: float,
        now: int,
        *,
        since: int,
        admit: Callable[[int, int], None],
    ) -> RatingRow:
        """Store one API rating; DuplicateRating when this user already rated this movie.

        ``admit(total, recent)`` sees the user's ratings in all and since ``since`` and raises
        to refuse; it runs in the write transaction, so concurrent writes cannot both pass.
        """
        try:
            with self._write() as connection:
                total, recent = connection.execute(
                    "SELECT COUNT(*), COALESCE(SUM(timestamp >= ?), 0) FROM ratings "
                    "WHERE user_id = ?",
                    (since, user_id),
                ).fetchone()
                admit(int(total), int(recent))
                connection.execute(
                    "INSERT INTO ratings (user_id, item_id, rating, timestamp, source) "
                    "VALUES (?, ?, ?, ?, 'api')",
                    (user_id, item_id, rating, now),
                )
        except sqlite3.IntegrityError:
            raise DuplicateRating(f"user {user_id} already rated movie {item_id}") from None
        return RatingRow(user_id, item_id, rating, now, API)

    def add_feedback(
        self,
        user_id: int,
        item_id: int,
        kind: str,
        now: int,
        *,
        since: int,
        admit: Callable[[int, int], None],
    ) -> tuple[FeedbackRow, bool]:
        """Mark ``item_id``; (the stored row, whether it is new). An existing mark is kept as
        it is; ``admit(total, recent)`` as for :meth:`add_rating`, for new marks only."""
        with self._write() as connection:
            existing = connection.execute(
                "SELECT user_id, item_id, kind, timestamp FROM feedback "
                "WHERE user_id = ? AND item_id = ?",
                (user_id, item_id),
            ).fetchone()
            if existing:
                return FeedbackRow(*existing), False
            total, recent = connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(timestamp >= ?), 0) FROM feedback WHERE user_id = ?",
                (since, user_id),
            ).fetchone()
            admit(int(total), int(recent))
            connection.execute(
                "INSERT INTO feedback (user_id, item_id, kind, timestamp) VALUES (?, ?, ?, ?)",
                (user_id, item_id, kind, now),
            )
        return FeedbackRow(user_id, item_id, kind, now), True

    def delete_feedback(self, user_id: int, item_id: int) -> bool:
        """Remove the user's mark on ``item_id``; False when there was none."""
        with self._write() as connection:
            removed = connection.execute(
                "DELETE FROM feedback WHERE user_id = ? AND item_id = ?", (user_id, item_id)
            ).rowcount
        return bool(removed)

    @staticmethod
    def _base_counts(connection: sqlite3.Connection) -> tuple[int, int, int]:
        row = connection.execute(
            "SELECT (SELECT COUNT(*) FROM movies), "
            "(SELECT COUNT(*) FROM users WHERE source = 'base'), "
            "(SELECT COUNT(*) FROM ratings WHERE source = 'base')"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def is_seeded(self, movies: int, users: int, ratings: int) -> bool:
        """Whether the base dataset with these row counts is already loaded."""
        if not self.path.is_file():
            return False
        try:
            return self._base_counts(self._connect()) == (movies, users, ratings)
        except (sqlite3.Error, StoreUnavailable):
            return False

    def seed(
        self, movies: Sequence[Movie], users: Sequence[UserFeatures], ratings: Sequence[Rating]
    ) -> bool:
        """Load the base dataset; False (and no work) when it is already there. Users and
        ratings people added through the API are never overwritten."""
        self.create_schema()
        expected = (len(movies), len(users), len(ratings))
        with self._write() as connection:
            if self._base_counts(connection) == expected:
                return False
            self._put_movies(connection, movies)
            first_seen: dict[int, int] = {}
            for user_id, _, _, timestamp in ratings:
                first_seen[user_id] = min(timestamp, first_seen.get(user_id, timestamp))
            connection.executemany(
                "INSERT OR IGNORE INTO users (user_id, age, gender, occupation, source, "
                "created_at) VALUES (?, ?, ?, ?, 'base', ?)",
                [(u, a, g, o, first_seen.get(u, 0)) for u, a, g, o in users],
            )
            connection.executemany(
                "INSERT OR IGNORE INTO ratings (user_id, item_id, rating, timestamp, source) "
                "VALUES (?, ?, ?, ?, 'base')",
                ratings,
            )
        return True

    def put_movies(self, movies: Sequence[Movie]) -> None:
        """Add (or replace) catalog entries."""
        with self._write() as connection:
            self._put_movies(connection, movies)

    @staticmethod
    def _put_movies(connection: sqlite3.Connection, movies: Sequence[Movie]) -> None:
        connection.executemany(
            "INSERT OR REPLACE INTO movies (item_id, title, year, genres) VALUES (?,?,?,?)",
            [(m.item_id, m.title, m.year, genres_json(m.genres)) for m in movies],
        )

    def put_users(self, users: Sequence[UserFeatures], *, source: str, created_at: int) -> None:
        """Add users of ``source`` (``base`` or ``api``, without a token) as they are."""
        _check_source(source)
        with self._write() as connection:
            connection.executemany(
                "INSERT INTO users (user_id, age, gender, occupation, source, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(*user, source, created_at) for user in users],
            )

    def put_ratings(self, ratings: Sequence[Rating], *, source: str) -> None:
        """Add ratings of ``source`` as they are, without the API's caps; a rating of a
        (user, movie) pair that exists is DuplicateRating."""
        _check_source(source)
        try:
            with self._write() as connection:
                connection.executemany(
                    "INSERT INTO ratings (user_id, item_id, rating, timestamp, source) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(*rating, source) for rating in ratings],
                )
        except sqlite3.IntegrityError as exc:
            raise DuplicateRating(f"ratings store {self.path}: {exc}") from None


def _check_source(source: str) -> None:
    if source not in (BASE, API):
        raise ValueError(f"source must be {BASE!r} or {API!r}, not {source!r}")


def _where(**equal: Any) -> tuple[str, tuple]:
    given = [(column, value) for column, value in equal.items() if value is not None]
    if not given:
        return "", ()
    return " WHERE " + " AND ".join(f"{column} = ?" for column, _ in given), tuple(
        value for _, value in given
    )


def _migrate(connection: sqlite3.Connection) -> None:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if "users" not in tables:
        return  # not seeded yet: check() says so
    for table, column, statement in _MIGRATIONS:
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            connection.execute(statement)
    if "client_quota" not in tables or "feedback" not in tables:
        connection.executescript(SCHEMA)


# --------------------------------------------------------------------------- the pipeline's read


@dataclass(frozen=True)
class ApiRatings:
    """The ratings and users people added through the API, validated.

    ``ratings`` are ``(user_id, item_id, rating, timestamp)`` ordered by (user_id, timestamp,
    item_id); ``users`` are ``(user_id, age, gender, occupation)`` ordered by user_id.
    """

    ratings: list[Rating]
    users: list[UserFeatures]
    path: Path


def read_api_ratings(path: Path | str, timeout: float = READ_TIMEOUT) -> ApiRatings:
    """Every rating and user with ``source = 'api'``; StoreError when the file is missing,
    lacks a column the schema has, or holds a row that is not a valid rating."""
    path = Path(path)
    connection = _connect_read_only(path, timeout)
    try:
        rows = connection.execute(
            "SELECT user_id, item_id, rating, timestamp FROM ratings "
            "WHERE source = 'api' ORDER BY user_id, timestamp, item_id"
        ).fetchall()
        user_rows = connection.execute(
            "SELECT user_id, age, gender, occupation FROM users WHERE source = 'api' "
            "ORDER BY user_id"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot read ratings ({exc})") from None
    finally:
        connection.close()
    ratings: list[Rating] = []
    for number, (user_id, item_id, rating, timestamp) in enumerate(rows, start=1):
        where = f"{path}: api rating #{number} (user {user_id!r}, item {item_id!r})"
        if not (isinstance(user_id, int) and isinstance(item_id, int)):
            raise StoreError(f"{where} has a non-integer id")
        if user_id < 1 or item_id < 1:
            raise StoreError(f"{where} has a non-positive id")
        if not isinstance(timestamp, int):
            raise StoreError(f"{where} has a non-integer timestamp")
        if not isinstance(rating, int | float) or isinstance(rating, bool):
            raise StoreError(f"{where} has a non-numeric rating")
        ratings.append((user_id, item_id, float(rating), timestamp))
    users: list[UserFeatures] = []
    for user_id, age, gender, occupation in user_rows:
        if not isinstance(user_id, int):
            raise StoreError(f"{path}: api user {user_id!r} has a non-integer id")
        users.append((user_id, age if isinstance(age, int) else None, gender, occupation))
    return ApiRatings(ratings=ratings, users=users, path=path)


def _connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreError(f"{path}: ratings store not found")
    try:
        # mode=ro: readers never write the store; busy_timeout waits out the API's writes.
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
        connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        tables = {
            name: {row[1] for row in connection.execute(f"PRAGMA table_info({name})")}
            for name in _REQUIRED
        }
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a readable SQLite ratings store ({exc})") from None
    for name, columns in _REQUIRED.items():
        missing = columns - tables[name]
        if missing:
            connection.close()
            raise StoreError(
                f"{path}: table {name!r} lacks column(s) {', '.join(sorted(missing))}; "
                "see docs/contracts.md 'Ratings store'"
            )
    return connection
