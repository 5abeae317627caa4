"""RecBole atomic files (``NAME.inter``, ``NAME.item``, ``NAME.user``): the one parser.

Tab separated, a ``name:type`` header, one row per line. The pipeline trains on them and the
API seeds its store from them, so both read them here. Choices both sides share:

- ``.inter`` needs ``user_id`` and ``item_id`` (positive integers); a missing ``rating`` is
  1.0 (implicit feedback) and a missing ``timestamp`` 0; ``881250949.0`` is a valid timestamp
  but never a valid id.
- ``.item``: title from ``movie_title`` (or ``title``), else ``"Item <id>"``; year from
  ``release_year`` (or ``year``), else None; genres from ``class`` (or ``genres``), split on
  spaces, without GroupLens's ``unknown`` (its mark for "no genre", not a genre).
- ``.user``: age (integer or None), gender and occupation (None when empty).

Bad input is a :class:`DatasetError` naming the file and line.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from recs_contracts.store import Movie, Rating, UserFeatures

NO_GENRE = "unknown"


class DatasetError(ValueError):
    """Input data that cannot be used; the message names the file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {message}")
        self.path = Path(path)
        self.line = line


def read_text(path: Path, encodings: tuple[str, ...] = ("utf-8",)) -> str:
    """The file's text in the first encoding that decodes it; DatasetError when it is
    missing, empty or in none of them."""
    if not path.is_file():
        raise DatasetError(path, None, "file not found")
    raw = path.read_bytes()
    if not raw.strip():
        raise DatasetError(path, None, "the file is empty")
    for index, encoding in enumerate(encodings):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            if index == len(encodings) - 1:
                line = raw[: exc.start].count(b"\n") + 1
                raise DatasetError(
                    path, line, f"cannot be decoded as {encoding}; save the file as UTF-8"
                ) from None
    raise AssertionError("unreachable")


def parse_int(path: Path, line: int, column: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        # Accept "881250949.0" style timestamps but never fractional ids.
        try:
            number: float | None = float(value)
        except ValueError:
            number = None
        if number is not None and number.is_integer() and column == "timestamp":
            return int(number)
        raise DatasetError(path, line, f"{column} {value!r} is not an integer") from None


def parse_float(path: Path, line: int, column: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise DatasetError(path, line, f"{column} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise DatasetError(path, line, f"{column} {value!r} is not a finite number")
    return number


def optional_int(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def rating_row(path: Path, line: int, fields: dict[str, str]) -> Rating:
    """``(user_id, item_id, rating, timestamp)`` of one row with named fields."""
    user_id = parse_int(path, line, "user_id", fields["user_id"])
    item_id = parse_int(path, line, "item_id", fields["item_id"])
    if user_id < 1 or item_id < 1:
        raise DatasetError(path, line, "user_id and item_id must be positive integers")
    raw_rating = fields.get("rating")
    rating = 1.0 if raw_rating in (None, "") else parse_float(path, line, "rating", raw_rating)
    raw_ts = fields.get("timestamp")
    timestamp = 0 if raw_ts in (None, "") else parse_int(path, line, "timestamp", raw_ts)
    return user_id, item_id, rating, timestamp


def require_columns(path: Path, columns: list[str], required: tuple[str, ...]) -> None:
    missing = [name for name in required if name not in columns]
    if missing:
        raise DatasetError(
            path, 1, f"missing column(s) {', '.join(missing)}; the header has {', '.join(columns)}"
        )


def atomic_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header's column names (types dropped) and the (line number, fields) of each row."""
    lines = read_text(path).splitlines()
    header = [column.split(":", 1)[0].strip() for column in lines[0].split("\t")]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            values = line.split("\t")
            if len(values) != len(header):
                raise DatasetError(
                    path,
                    number,
                    f"expected {len(header)} tab-separated fields, found {len(values)}",
                )
            yield number, dict(zip(header, values, strict=True))

    return header, rows()


def read_inter(path: Path) -> list[Rating]:
    """Every rating of a ``.inter`` file, in file order."""
    header, rows = atomic_rows(path)
    require_columns(path, header, ("user_id", "item_id"))
    ratings = [rating_row(path, number, fields) for number, fields in rows]
    if not ratings:
        raise DatasetError(path, None, "no ratings after the header")
    return ratings


def read_items(path: Path) -> list[Movie]:
    """Every item of a ``.item`` file, in file order."""
    header, rows = atomic_rows(path)
    require_columns(path, header, ("item_id",))
    items = []
    for number, fields in rows:
        item_id = parse_int(path, number, "item_id", fields["item_id"])
        title = (fields.get("movie_title") or fields.get("title") or "").strip()
        genres = (fields.get("class") or fields.get("genres") or "").split()
        items.append(
            Movie(
                item_id=item_id,
                title=title or f"Item {item_id}",
                year=optional_int(fields.get("release_year") or fields.get("year")),
                genres=[genre for genre in genres if genre != NO_GENRE],
            )
        )
    return items


def read_users(path: Path) -> list[UserFeatures]:
    """``(user_id, age, gender, occupation)`` of every user of a ``.user`` file."""
    header, rows = atomic_rows(path)
    require_columns(path, header, ("user_id",))
    return [
        (
            parse_int(path, number, "user_id", fields["user_id"]),
            optional_int(fields.get("age")),
            fields.get("gender") or None,
            fields.get("occupation") or None,
        )
        for number, fields in rows
    ]


def count_rows(path: Path) -> int:
    """Data rows of an atomic file (non-blank lines after the header), without parsing it."""
    if not path.is_file():
        raise DatasetError(path, None, "file not found")
    with open(path, "rb") as handle:
        return max(0, sum(1 for line in handle if line.strip()) - 1)
