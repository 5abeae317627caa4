"""Ratings datasets: loaders for the three input formats and the embedded MovieLens-100K
(fetched by :mod:`recs_ml.data.embedded`).

Formats (ARCHITECTURE.md, "Ratings"):
- RecBole atomic files: ``NAME.inter`` (+ optional ``NAME.item``, ``NAME.user``), tab separated,
  with ``name:type`` headers.
- GroupLens: ``u.data`` (+ optional ``u.item``, ``u.user``).
- CSV with a header containing at least ``user_id,item_id`` (``rating``, ``timestamp`` optional).

Every malformed input raises :class:`DataError` naming the file and line, before any training.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recs_ml.data.embedded import (
    EMBEDDED_NAME,
    FetchError,
    embedded_dir,
    embedded_is_ready,
    sha256_file,
)

GROUPLENS_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip


class DataError(ValueError):
    """Input data that cannot be used; the message names the file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {message}")
        self.path = Path(path)
        self.line = line


@dataclass(frozen=True)
class Item:
    item_id: int
    title: str
    year: int | None
    genres: list[str]


@dataclass(frozen=True)
class User:
    user_id: int
    age: int | None = None
    gender: str | None = None
    occupation: str | None = None


@dataclass
class Ratings:
    """Columnar ratings: ``user_id:int, item_id:int, rating:float, timestamp:int`` (seconds)."""

    user_id: np.ndarray
    item_id: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray

    def __len__(self) -> int:
        return int(self.user_id.shape[0])

    @classmethod
    def from_rows(cls, rows: list[tuple[int, int, float, int]]) -> Ratings:
        arr: list[tuple] = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
        return cls(
            user_id=np.asarray(arr[0], dtype=np.int64),
            item_id=np.asarray(arr[1], dtype=np.int64),
            rating=np.asarray(arr[2], dtype=np.float32),
            timestamp=np.asarray(arr[3], dtype=np.int64),
        )

    def concat(self, other: Ratings) -> Ratings:
        return Ratings(
            user_id=np.concatenate([self.user_id, other.user_id]),
            item_id=np.concatenate([self.item_id, other.item_id]),
            rating=np.concatenate([self.rating, other.rating]),
            timestamp=np.concatenate([self.timestamp, other.timestamp]),
        )


@dataclass
class Dataset:
    name: str
    ratings: Ratings
    items: dict[int, Item] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    source_files: list[Path] = field(default_factory=list)

    @property
    def n_users(self) -> int:
        return int(np.unique(self.ratings.user_id).shape[0])

    @property
    def n_items(self) -> int:
        return int(np.unique(self.ratings.item_id).shape[0])

    def checksum(self) -> str:
        """sha256 over the source files, in order: identifies the training data."""
        digest = hashlib.sha256()
        for path in self.source_files:
            digest.update(path.name.encode())
            digest.update(sha256_file(path).encode())
        return digest.hexdigest()


# --------------------------------------------------------------------------- parsing helpers


def _read_text(path: Path, encodings: tuple[str, ...] = ("utf-8",)) -> str:
    if not path.is_file():
        raise DataError(path, None, "file not found")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(path, None, "the file is empty")
    for index, encoding in enumerate(encodings):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            if index == len(encodings) - 1:
                line = raw[: exc.start].count(b"\n") + 1
                raise DataError(
                    path, line, f"cannot be decoded as {encoding}; save the file as UTF-8"
                ) from None
    raise AssertionError("unreachable")


def _int(path: Path, line: int, column: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        # Accept "881250949.0" style timestamps but never fractional ids.
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is not None and number.is_integer() and column == "timestamp":
            return int(number)
        raise DataError(path, line, f"{column} {value!r} is not an integer") from None


def _float(path: Path, line: int, column: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise DataError(path, line, f"{column} {value!r} is not a number") from None
    if not np.isfinite(number):
        raise DataError(path, line, f"{column} {value!r} is not a finite number")
    return number


def _optional_int(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _rating_row(path: Path, line: int, fields: dict[str, str]) -> tuple[int, int, float, int]:
    user_id = _int(path, line, "user_id", fields["user_id"])
    item_id = _int(path, line, "item_id", fields["item_id"])
    if user_id < 1 or item_id < 1:
        raise DataError(path, line, "user_id and item_id must be positive integers")
    raw_rating = fields.get("rating")
    rating = 1.0 if raw_rating in (None, "") else _float(path, line, "rating", raw_rating)
    raw_ts = fields.get("timestamp")
    timestamp = 0 if raw_ts in (None, "") else _int(path, line, "timestamp", raw_ts)
    return user_id, item_id, rating, timestamp


def _require(path: Path, columns: list[str], required: tuple[str, ...]) -> None:
    missing = [name for name in required if name not in columns]
    if missing:
        raise DataError(
            path, 1, f"missing column(s) {', '.join(missing)}; the header has {', '.join(columns)}"
        )


def _finish(path: Path, rows: list[tuple[int, int, float, int]]) -> Ratings:
    if not rows:
        raise DataError(path, None, "no ratings after the header")
    return Ratings.from_rows(rows)


# --------------------------------------------------------------------------- RecBole atomic


def _atomic_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    text = _read_text(path)
    lines = text.splitlines()
    header = [column.split(":", 1)[0].strip() for column in lines[0].split("\t")]

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            values = line.split("\t")
            if len(values) != len(header):
                raise DataError(
                    path,
                    number,
                    f"expected {len(header)} tab-separated fields, found {len(values)}",
                )
            yield number, values

    return header, rows()


def load_recbole(location: Path) -> Dataset:
    """Load ``NAME.inter`` (+ ``NAME.item``, ``NAME.user`` when present)."""
    location = Path(location)
    if location.is_dir():
        inters = sorted(location.glob("*.inter"))
        if not inters:
            raise DataError(location, None, "no .inter file in this directory")
        inter = inters[0]
    else:
        inter = location
    name = inter.stem
    header, rows = _atomic_rows(inter)
    _require(inter, header, ("user_id", "item_id"))
    ratings = _finish(
        inter, [_rating_row(inter, n, dict(zip(header, v, strict=True))) for n, v in rows]
    )
    dataset = Dataset(name=name, ratings=ratings, source_files=[inter])
    _recbole_metadata(dataset, inter)
    return dataset


def _recbole_metadata(dataset: Dataset, inter: Path) -> None:
    """Items and users from the ``.item`` / ``.user`` files beside ``inter``, when present."""

    item_path = inter.with_suffix(".item")
    if item_path.is_file():
        header, rows = _atomic_rows(item_path)
        _require(item_path, header, ("item_id",))
        for number, values in rows:
            fields = dict(zip(header, values, strict=True))
            item_id = _int(item_path, number, "item_id", fields["item_id"])
            title = fields.get("movie_title") or fields.get("title") or f"Item {item_id}"
            year = _optional_int(fields.get("release_year") or fields.get("year"))
            genres = (fields.get("class") or fields.get("genres") or "").split()
            dataset.items[item_id] = Item(item_id, title.strip(), year, genres)
        dataset.source_files.append(item_path)

    user_path = inter.with_suffix(".user")
    if user_path.is_file():
        header, rows = _atomic_rows(user_path)
        _require(user_path, header, ("user_id",))
        for number, values in rows:
            fields = dict(zip(header, values, strict=True))
            user_id = _int(user_path, number, "user_id", fields["user_id"])
            dataset.users[user_id] = User(
                user_id,
                age=_optional_int(fields.get("age")),
                gender=fields.get("gender") or None,
                occupation=fields.get("occupation") or None,
            )
        dataset.source_files.append(user_path)


# --------------------------------------------------------------------------- GroupLens


def _split_title_year(raw: str) -> tuple[str, int | None]:
    raw = raw.strip()
    if raw.endswith(")") and len(raw) > 6 and raw[-6] == "(" and raw[-5:-1].isdigit():
        return raw[:-6].strip(), int(raw[-5:-1])
    return raw, None


def load_grouplens(directory: Path) -> Dataset:
    """Load GroupLens ``u.data`` (+ ``u.item``, ``u.user``) from a directory."""
    directory = Path(directory)
    data_path = directory / "u.data" if directory.is_dir() else directory
    rows = []
    for number, line in enumerate(_read_text(data_path).splitlines(), start=1):
        if not line.strip():
            continue
        values = line.split("\t")
        if len(values) != 4:
            raise DataError(
                data_path,
                number,
                f"expected 4 tab-separated fields "
                f"(user_id, item_id, rating, timestamp), found {len(values)}",
            )
        fields = dict(zip(("user_id", "item_id", "rating", "timestamp"), values, strict=True))
        rows.append(_rating_row(data_path, number, fields))
    dataset = Dataset(
        name=data_path.parent.name, ratings=_finish(data_path, rows), source_files=[data_path]
    )

    _grouplens_metadata(dataset, data_path)
    return dataset


def _grouplens_metadata(dataset: Dataset, data_path: Path) -> None:
    """Items and users from ``u.item`` / ``u.user`` beside ``data_path``, when present."""
    item_path = data_path.with_name("u.item")
    if item_path.is_file():
        for number, line in enumerate(
            _read_text(item_path, ("utf-8", "latin-1")).splitlines(), start=1
        ):
            if not line.strip():
                continue
            values = line.split("|")
            if len(values) < 5:
                raise DataError(item_path, number, "expected '|'-separated item fields")
            item_id = _int(item_path, number, "item_id", values[0])
            title, year = _split_title_year(values[1])
            if year is None and values[2][-4:].isdigit():
                year = int(values[2][-4:])
            flags = values[5:]
            genres = [g for g, flag in zip(GROUPLENS_GENRES, flags, strict=False) if flag == "1"]
            dataset.items[item_id] = Item(item_id, title, year, genres)
        dataset.source_files.append(item_path)

    user_path = data_path.with_name("u.user")
    if user_path.is_file():
        for number, line in enumerate(_read_text(user_path).splitlines(), start=1):
            if not line.strip():
                continue
            values = line.split("|")
            if len(values) < 4:
                raise DataError(user_path, number, "expected user_id|age|gender|occupation|zip")
            user_id = _int(user_path, number, "user_id", values[0])
            dataset.users[user_id] = User(
                user_id, _optional_int(values[1]), values[2] or None, values[3] or None
            )
        dataset.source_files.append(user_path)


# --------------------------------------------------------------------------- CSV


def load_csv(path: Path) -> Dataset:
    """A CSV whose header contains at least ``user_id,item_id``.

    Read columnar with pyarrow (no per-row Python, memory ~ 24 bytes a rating); a file the
    columnar reader rejects is re-read row by row to name the offending line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "file not found")
    ratings = _read_csv_columnar(path)
    if ratings is None:
        return _load_csv_rows(path)
    return Dataset(name=path.stem, ratings=ratings, source_files=[path])


RATING_COLUMNS = ("user_id", "item_id", "rating", "timestamp")


def _columns_to_ratings(path: Path, columns: dict[str, np.ndarray], rows: int) -> Ratings | None:
    """Checked ratings from columns, or None when a value is bad (the caller names the line)."""
    user_id = columns["user_id"]
    item_id = columns["item_id"]
    rating = columns.get("rating")
    timestamp = columns.get("timestamp")
    if rating is None:
        rating = np.ones(rows, dtype=np.float32)
    if timestamp is None:
        timestamp = np.zeros(rows, dtype=np.int64)
    elif timestamp.dtype.kind == "f":
        if not np.all(np.isfinite(timestamp)) or np.any(timestamp != np.floor(timestamp)):
            return None
        timestamp = timestamp.astype(np.int64)
    if (user_id < 1).any() or (item_id < 1).any() or not np.all(np.isfinite(rating)):
        return None
    return Ratings(
        user_id=user_id.astype(np.int64, copy=False),
        item_id=item_id.astype(np.int64, copy=False),
        rating=rating.astype(np.float32, copy=False),
        timestamp=timestamp.astype(np.int64, copy=False),
    )


def _read_csv_columnar(path: Path) -> Ratings | None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        with open(path, "rb") as handle:
            first = handle.readline().decode("utf-8")
    except UnicodeDecodeError:
        return None
    header = [column.strip() for column in next(csv.reader([first]), [])]
    if "user_id" not in header or "item_id" not in header or len(set(header)) != len(header):
        return None
    if any(column != raw for column, raw in zip(header, next(csv.reader([first])), strict=True)):
        return None  # padded names: the row reader handles them
    types = {"user_id": pa.int64(), "item_id": pa.int64(), "rating": pa.float64()}
    if "timestamp" in header:
        types["timestamp"] = pa.float64()
    wanted = [name for name in RATING_COLUMNS if name in header]
    from recs_ml.progress import progress

    parts: dict[str, list[np.ndarray]] = {name: [] for name in wanted}
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=16 << 20),
            convert_options=pacsv.ConvertOptions(
                column_types=types, include_columns=wanted, strings_can_be_null=False
            ),
        )
        with progress(f"read {path.name}", unit="rows") as bar:
            for batch in reader:
                for name in wanted:
                    column = batch.column(name)
                    if column.null_count:
                        return None
                    parts[name].append(column.to_numpy(zero_copy_only=False))
                bar.advance(batch.num_rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return None
    rows = sum(part.shape[0] for part in parts["user_id"])
    if rows == 0:
        return None
    columns = {name: np.concatenate(chunks) for name, chunks in parts.items()}
    del parts
    return _columns_to_ratings(path, columns, len(columns["user_id"]))


def load_parquet(path: Path) -> Dataset:
    """A Parquet file with at least integer ``user_id`` and ``item_id`` columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "file not found")
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(path, None, f"not a readable Parquet file ({exc})") from None
    _require(path, schema.names, ("user_id", "item_id"))
    wanted = [name for name in RATING_COLUMNS if name in schema.names]
    table = pq.read_table(path, columns=wanted)
    if table.num_rows == 0:
        raise DataError(path, None, "no ratings in the file")
    columns: dict[str, np.ndarray] = {}
    for name in wanted:
        column = table.column(name)
        if column.null_count:
            raise DataError(path, None, f"{name} has {column.null_count} missing values")
        kind = column.type
        integer = pa.types.is_integer(kind)
        if name in ("user_id", "item_id") and not integer:
            raise DataError(path, None, f"{name} must be an integer column, found {kind}")
        if not (integer or pa.types.is_floating(kind)):
            raise DataError(path, None, f"{name} must be numeric, found {kind}")
        columns[name] = column.to_numpy()
    del table
    ratings = _columns_to_ratings(path, columns, len(columns["user_id"]))
    if ratings is None:
        for name, message in (
            ("user_id", "user_id and item_id must be positive integers"),
            ("item_id", "user_id and item_id must be positive integers"),
        ):
            bad = np.flatnonzero(columns[name] < 1)
            if bad.shape[0]:
                raise DataError(path, None, f"row {bad[0] + 1}: {message}")
        raise DataError(path, None, "rating must be finite and timestamp an integer")
    return Dataset(name=path.stem, ratings=ratings, source_files=[path])


def _load_csv_rows(path: Path) -> Dataset:
    reader = csv.reader(io.StringIO(_read_text(path)))
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        raise DataError(path, None, "the file is empty") from None
    _require(path, header, ("user_id", "item_id"))
    rows = []
    for values in reader:
        number = reader.line_num
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            raise DataError(
                path, number, f"expected {len(header)} comma-separated fields, found {len(values)}"
            )
        rows.append(_rating_row(path, number, dict(zip(header, values, strict=True))))
    return Dataset(name=path.stem, ratings=_finish(path, rows), source_files=[path])


# --------------------------------------------------------------------------- dispatch


def locate_source(source: str | Path = EMBEDDED_NAME, home: Path | None = None) -> tuple[str, Path]:
    """The format (``recbole``, ``grouplens``, ``csv``, ``parquet``) and ratings file that
    ``source`` names: ``ml-100k`` (the embedded dataset) or a file or directory."""
    if str(source) == EMBEDDED_NAME:
        if not embedded_is_ready(home):
            raise FetchError(
                f"MovieLens-100K is not in {embedded_dir(home)} yet; run `recs data fetch` "
                "(or scripts/setup.sh) first"
            )
        return "recbole", embedded_dir(home) / "ml-100k.inter"
    path = Path(source)
    if not path.exists():
        raise DataError(path, None, "no such file or directory")
    if path.is_dir():
        if (path / "u.data").is_file():
            return "grouplens", path / "u.data"
        if inters := sorted(path.glob("*.inter")):
            return "recbole", inters[0]
        if len(csvs := sorted(path.glob("*.csv"))) == 1:
            return "csv", csvs[0]
        if len(parquets := sorted(path.glob("*.parquet"))) == 1:
            return "parquet", parquets[0]
        raise DataError(path, None, "no u.data, *.inter or single *.csv file in this directory")
    if path.suffix == ".inter":
        return "recbole", path
    if path.name == "u.data":
        return "grouplens", path
    if path.suffix == ".csv":
        return "csv", path
    if path.suffix == ".parquet":
        return "parquet", path
    raise DataError(path, None, "unknown format: expected .inter, u.data, .csv or .parquet")


LOADERS = {
    "recbole": load_recbole,
    "grouplens": load_grouplens,
    "csv": load_csv,
    "parquet": load_parquet,
}


def load_dataset(source: str | Path = EMBEDDED_NAME, home: Path | None = None) -> Dataset:
    """Load ``ml-100k`` (the embedded dataset) or a path in any of the three formats."""
    kind, path = locate_source(source, home)
    return LOADERS[kind](path)


def load_metadata(source: str | Path = EMBEDDED_NAME, home: Path | None = None) -> Dataset:
    """What ``source`` holds besides its ratings — items, users and the source files the
    checksum covers — without reading the ratings (another engine reads those)."""
    kind, path = locate_source(source, home)
    name = path.parent.name if kind == "grouplens" else path.stem
    dataset = Dataset(name=name, ratings=Ratings.from_rows([]), source_files=[path])
    if kind == "recbole":
        _recbole_metadata(dataset, path)
    elif kind == "grouplens":
        _grouplens_metadata(dataset, path)
    return dataset
