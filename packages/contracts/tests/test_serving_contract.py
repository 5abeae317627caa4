import pytest

from recs_contracts.serving import (
    INPUT_NAMES,
    INPUTS,
    MAX_K,
    OUTPUT_NAMES,
    SMOKE_REQUEST,
    Instance,
    ResponseError,
    parse_predictions,
    request_body,
)


def test_signature_is_the_documented_one():
    assert [(s.name, s.dtype, s.shape) for s in INPUTS] == [
        ("user_id", "int64", (None,)),
        ("history", "int64", (None, None)),
        ("exclude", "int64", (None, None)),
        ("k", "int32", (None,)),
    ]
    assert INPUT_NAMES == ("user_id", "history", "exclude", "k")
    assert OUTPUT_NAMES == ("item_ids", "scores")


def test_bodies_pad_history_and_exclude_within_the_request():
    body = request_body([Instance(3, [181, 258], 10), Instance(0, [], 5, exclude=[7])])
    assert body == {"instances": [
        {"user_id": 3, "history": [181, 258], "exclude": [0], "k": 10},
        {"user_id": 0, "history": [0, 0], "exclude": [7], "k": 5},
    ]}  # fmt: skip
    columnar = request_body([Instance(3, [181, 258], 10)], columnar=True)
    assert columnar == {
        "inputs": {"user_id": [3], "history": [[181, 258]], "exclude": [[0]], "k": [10]}
    }
    assert SMOKE_REQUEST == {"instances": [{"user_id": 0, "history": [0], "exclude": [0], "k": 1}]}


@pytest.mark.parametrize("k", [0, MAX_K + 1])
def test_k_out_of_range_is_refused(k):
    with pytest.raises(ValueError, match="between 1 and 100"):
        Instance(1, [1], k)


def test_both_answer_forms_parse_and_bad_ones_are_refused():
    assert parse_predictions({"predictions": [{"item_ids": [4, 2], "scores": [0.5, 0.25]}]}) == [
        ([4, 2], [0.5, 0.25])
    ]
    assert parse_predictions({"outputs": {"item_ids": [[4]], "scores": [[1.0]]}}) == [([4], [1.0])]
    for bad in ({}, {"predictions": []}, {"predictions": [{"item_ids": [1], "scores": []}]}, None):
        with pytest.raises(ResponseError):
            parse_predictions(bad)
