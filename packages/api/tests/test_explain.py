"""match and because on a matrix small enough to check by hand.

Raters: user a rated movies 1 and 2, user b 1 and 3, user c 2; movie 4 nobody. Co-rating
cosines: sim(1, 2) = 1 / sqrt(2 * 2) = 0.5, sim(1, 3) = 1 / sqrt(2 * 1) = 0.7071, sim(2, 3) = 0.
"""

import math

import pytest

from chalicelib.explain import Taste
from chalicelib.similarity import SimilarityIndex

INDEX = [(10, 1), (10, 2), (11, 1), (11, 3), (12, 2)]
COUNTS = {1: 2, 2: 2, 3: 1, 4: 0}


def test_a_liked_movie_pulls_its_neighbours_up_and_is_their_reason() -> None:
    taste = Taste(SimilarityIndex.build(INDEX), [(1, 5.0)], COUNTS)
    # affinity = (5 - 3) * sim: movie 2 -> 1.0, movie 3 -> 1.414, movie 4 -> 0
    assert taste.affinity == pytest.approx({2: 1.0, 3: 2 / math.sqrt(2)})
    # Unrated movies ranked by affinity: 4 < 2 < 3; match = share of the other two below.
    assert [taste.match(i) for i in (3, 2, 4)] == [1.0, 0.5, 0.0]
    reason = taste.because(3)
    assert reason is not None and (reason.item_id, reason.rating) == (1, 5.0)
    assert reason.weight == pytest.approx(math.sqrt(2))
    assert taste.because(4) is None


def test_a_disliked_movie_pushes_its_neighbours_down_and_explains_nothing() -> None:
    taste = Taste(SimilarityIndex.build(INDEX), [(1, 2.0)], COUNTS)
    assert [taste.match(i) for i in (4, 2, 3)] == [1.0, 0.5, 0.0]
    assert taste.because(2) is None and taste.because(3) is None


def test_without_ratings_the_match_is_the_popularity_percentile() -> None:
    taste = Taste(SimilarityIndex.build(INDEX), [], COUNTS)
    # counts 2, 2, 1, 0: movies 1 and 2 tie on top (each beats 3 and 4: 2 of the 3 others).
    assert [taste.match(i) for i in (1, 2, 3, 4)] == [pytest.approx(2 / 3, abs=1e-4)] * 2 + [
        pytest.approx(1 / 3, abs=1e-4), 0.0,
    ]  # fmt: skip
