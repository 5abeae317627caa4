"""Filters of a user's recommendations (genres, release years), checked against the catalog.

They are applied before top-k: the API sends every catalog movie that does not qualify in the
endpoint request's ``exclude`` (with the user's not-interested movies), so the model's top-k
are k qualifying movies whenever k qualify. Above ``EXCLUDE_LIMIT`` excluded ids (catalogs far
larger than MovieLens) the request asks for the endpoint's largest k instead and the API
filters its answer, which may then hold fewer than k.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import BadRequest
from chalicelib.store import Movie

EXCLUDE_LIMIT = 20_000  # ids in one endpoint request (~200 KB of JSON)


@dataclass(frozen=True)
class Filters:
    genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.genres) or self.year_min is not None or self.year_max is not None

    def matches(self, movie: Movie) -> bool:
        if self.genres and not set(self.genres) & set(movie.genres):
            return False
        if self.year_min is not None or self.year_max is not None:
            if movie.year is None:
                return False
            if self.year_min is not None and movie.year < self.year_min:
                return False
            if self.year_max is not None and movie.year > self.year_max:
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"genres": list(self.genres), "year_min": self.year_min,
                "year_max": self.year_max}  # fmt: skip


def parse_genres(text: str, known: Iterable[str], name: str = "genres") -> tuple[str, ...]:
    """Comma-separated genre names, matched case-insensitively to the catalog's spelling."""
    spelling = {genre.lower(): genre for genre in known}
    chosen: list[str] = []
    for raw in text.split(","):
        wanted = raw.strip()
        if not wanted:
            continue
        genre = spelling.get(wanted.lower())
        if genre is None:
            raise BadRequest(
                f"{name}: unknown genre {wanted[:40]!r}; known genres: "
                f"{', '.join(sorted(spelling.values()))}"
            )
        if genre not in chosen:
            chosen.append(genre)
    return tuple(chosen)


def parse_filters(
    genres: str, year_min: int | None, year_max: int | None, known_genres: Iterable[str]
) -> Filters:
    if year_min is not None and year_max is not None and year_min > year_max:
        raise BadRequest(
            f"year_min ({year_min}) is after year_max ({year_max}); swap them or drop one"
        )
    return Filters(parse_genres(genres, known_genres), year_min, year_max)
