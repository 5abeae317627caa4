"""SQLite ratings store (``RECS_HOME/store.db``): WAL, busy timeout, one connection per thread.

Every write is one ``BEGIN IMMEDIATE`` transaction, so concurrent writers queue on the lock
instead of losing a rating or handing out the same new user id twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from chalicelib.limits import CapReached, WriteCap, check_write, day_window, hour_window
from chalicelib.ownership import TokenRecord
from chalicelib.store import (
    CatalogEntry,
    DuplicateRating,
    FeedbackRow,
    Movie,
    NewUser,
    RatingRow,
    SeedData,
    StoreUnavailable,
    UserProfile,
    genres_json,
)

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

_PROFILE = (
    "SELECT u.user_id, u.age, u.gender, u.occupation, u.source, u.created_at, "
    "(SELECT COUNT(*) FROM ratings r WHERE r.user_id = u.user_id), u.token_salt, "
    "u.token_digest FROM users u"
)


def _profile(row: tuple) -> UserProfile:
    token = TokenRecord(row[7], row[8]) if row[7] and row[8] else None
    return UserProfile(row[0], row[1], row[2], row[3], row[4], row[5], row[6], token)


def _movie(row: tuple) -> Movie:
    return Movie(row[0], row[1], row[2], json.loads(row[3]))


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqliteStore:
    backend = "sqlite"

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
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
            self._migrate(connection)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"ratings store {self.path}: {exc}") from None
        self._local.connection = connection
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
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

    @staticmethod
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

    def create_schema(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=self.timeout)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(SCHEMA)
            self._migrate(connection)
        finally:
            connection.close()

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # ----------------------------------------------------------------------------- reading

    def check(self) -> None:
        rows = self._read("SELECT (SELECT COUNT(*) FROM movies), (SELECT COUNT(*) FROM users)")
        if not rows or rows[0][0] == 0:
            raise StoreUnavailable(
                f"ratings store {self.path} has no movies; run scripts/setup.d/seed.sh"
            )

    def list_users(
        self, query: str, limit: int, offset: int, include: int | None = None
    ) -> tuple[list[UserProfile], int]:
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
        return [_profile(row) for row in rows], int(total)

    def get_user(self, user_id: int) -> UserProfile | None:
        rows = self._read(_PROFILE + " WHERE u.user_id = ?", (user_id,))
        return _profile(rows[0]) if rows else None

    def user_ratings(self, user_id: int) -> list[RatingRow]:
        rows = self._read(
            "SELECT user_id, item_id, rating, timestamp, source FROM ratings "
            "WHERE user_id = ? ORDER BY timestamp, item_id",
            (user_id,),
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
        count, mean = self._read(
            "SELECT COUNT(*), AVG(rating) FROM ratings WHERE item_id = ?", (item_id,)
        )[0]
        return int(count), (None if mean is None else float(mean))

    def search_movies(
        self, query: str, limit: int
    ) -> tuple[list[tuple[Movie, int, float | None]], int]:
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
        rows = self._read(
            "SELECT item_id, COUNT(*) AS n FROM ratings GROUP BY item_id "
            "ORDER BY n DESC, item_id LIMIT ?",
            (limit,),
        )
        return [(int(item), int(count)) for item, count in rows]

    def iter_ratings(self) -> Iterator[tuple[int, int]]:
        for user_id, item_id in self._read("SELECT user_id, item_id FROM ratings"):
            yield int(user_id), int(item_id)

    def catalog(self) -> list[CatalogEntry]:
        rows = self._read(
            "SELECT m.item_id, m.title, m.year, m.genres, COUNT(r.item_id) AS n, AVG(r.rating) "
            "FROM movies m LEFT JOIN ratings r ON r.item_id = m.item_id "
            "GROUP BY m.item_id ORDER BY n DESC, m.item_id"
        )
        return [(_movie(row[:4]), int(row[4]), row[5]) for row in rows]

    def feedback(self, user_id: int) -> list[FeedbackRow]:
        rows = self._read(
            "SELECT user_id, item_id, kind, timestamp FROM feedback WHERE user_id = ? "
            "ORDER BY timestamp DESC, item_id DESC",
            (user_id,),
        )
        return [FeedbackRow(*row) for row in rows]

    # ----------------------------------------------------------------------------- writing

    def create_user(self, new: NewUser) -> UserProfile:
        window, retry_after = hour_window(new.now)
        with self._write() as connection:
            connection.execute("DELETE FROM client_quota WHERE window < ?", (window,))
            row = connection.execute(
                "SELECT count FROM client_quota WHERE client = ? AND window = ?",
                (new.client, window),
            ).fetchone()
            if row and row[0] >= new.users_per_hour:
                raise CapReached(
                    f"this client created {row[0]} users this hour, the most allowed "
                    f"({new.users_per_hour})",
                    retry_after,
                )
            connection.execute(
                "INSERT INTO client_quota (client, window, count) VALUES (?, ?, 1) "
                "ON CONFLICT (client, window) DO UPDATE SET count = count + 1",
                (new.client, window),
            )
            # New users get ids above every existing one (docs/contracts.md).
            user_id = connection.execute(
                "SELECT COALESCE(MAX(user_id), 0) + 1 FROM users"
            ).fetchone()[0]
            token = new.token_for(user_id)
            connection.execute(
                "INSERT INTO users (user_id, age, gender, occupation, source, created_at, "
                "token_salt, token_digest) VALUES (?, ?, ?, ?, 'api', ?, ?, ?)",
                (user_id, new.age, new.gender, new.occupation, new.now, token.salt, token.digest),
            )
        return new.profile(user_id, token)

    def delete_user(self, user_id: int) -> int:
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
        self, user_id: int, item_id: int, rating: float, now: int, cap: WriteCap
    ) -> RatingRow:
        day_start, _ = day_window(now)
        try:
            with self._write() as connection:
                total, today = connection.execute(
                    "SELECT COUNT(*), COALESCE(SUM(timestamp >= ?), 0) FROM ratings "
                    "WHERE user_id = ?",
                    (day_start, user_id),
                ).fetchone()
                check_write(cap, total=int(total), today=int(today), now=now)
                connection.execute(
                    "INSERT INTO ratings (user_id, item_id, rating, timestamp, source) "
                    "VALUES (?, ?, ?, ?, 'api')",
                    (user_id, item_id, rating, now),
                )
        except sqlite3.IntegrityError:
            raise DuplicateRating(f"user {user_id} already rated movie {item_id}") from None
        return RatingRow(user_id, item_id, rating, now, "api")

    def add_feedback(
        self, user_id: int, item_id: int, kind: str, now: int, cap: WriteCap
    ) -> tuple[FeedbackRow, bool]:
        day_start, _ = day_window(now)
        with self._write() as connection:
            existing = connection.execute(
                "SELECT user_id, item_id, kind, timestamp FROM feedback "
                "WHERE user_id = ? AND item_id = ?",
                (user_id, item_id),
            ).fetchone()
            if existing:
                return FeedbackRow(*existing), False
            total, today = connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(timestamp >= ?), 0) FROM feedback WHERE user_id = ?",
                (day_start, user_id),
            ).fetchone()
            check_write(cap, total=int(total), today=int(today), now=now)
            connection.execute(
                "INSERT INTO feedback (user_id, item_id, kind, timestamp) VALUES (?, ?, ?, ?)",
                (user_id, item_id, kind, now),
            )
        return FeedbackRow(user_id, item_id, kind, now), True

    def delete_feedback(self, user_id: int, item_id: int) -> bool:
        with self._write() as connection:
            removed = connection.execute(
                "DELETE FROM feedback WHERE user_id = ? AND item_id = ?", (user_id, item_id)
            ).rowcount
        return bool(removed)

    def _base_counts(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        row = connection.execute(
            "SELECT (SELECT COUNT(*) FROM movies), "
            "(SELECT COUNT(*) FROM users WHERE source = 'base'), "
            "(SELECT COUNT(*) FROM ratings WHERE source = 'base')"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def is_seeded(self, movies: int, users: int, ratings: int) -> bool:
        if not self.path.is_file():
            return False
        try:
            return self._base_counts(self._connect()) == (movies, users, ratings)
        except sqlite3.Error:
            return False

    def seed(self, data: SeedData) -> bool:
        self.create_schema()
        expected = (len(data.movies), len(data.users), len(data.ratings))
        with self._write() as connection:
            if self._base_counts(connection) == expected:
                return False
            connection.executemany(
                "INSERT OR REPLACE INTO movies (item_id, title, year, genres) VALUES (?,?,?,?)",
                [(m.item_id, m.title, m.year, genres_json(m.genres)) for m in data.movies],
            )
            first_seen: dict[int, int] = {}
            for user_id, _, _, timestamp in data.ratings:
                first_seen[user_id] = min(timestamp, first_seen.get(user_id, timestamp))
            # OR IGNORE: never overwrite users and ratings people added through the API.
            connection.executemany(
                "INSERT OR IGNORE INTO users (user_id, age, gender, occupation, source, "
                "created_at) VALUES (?, ?, ?, ?, 'base', ?)",
                [(u, a, g, o, first_seen.get(u, 0)) for u, a, g, o in data.users],
            )
            connection.executemany(
                "INSERT OR IGNORE INTO ratings (user_id, item_id, rating, timestamp, source) "
                "VALUES (?, ?, ?, ?, 'base')",
                data.ratings,
            )
        return True
