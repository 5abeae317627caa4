"""The committed openapi.json is generated from the route table and its pydantic models, matches
the app's routes, and the validator answers in the API's words."""

import json
import re

import pytest
from conftest import body, get, post
from pydantic import ValidationError

from app import app
from chalicelib.errors import BadRequest
from chalicelib.models import FeedbackCreate, RatingCreate, UserCreate
from chalicelib.openapi import OPENAPI_PATH, render
from chalicelib.operations import operation
from chalicelib.validation import parse_body, parse_params


def test_committed_document_equals_the_generated_one() -> None:
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render(), (
        "packages/api/openapi.json is stale: run "
        "`uv run --frozen --no-sync python -m chalicelib.openapi --write`"
    )


def test_every_app_route_is_documented_and_vice_versa() -> None:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    served = {(m, p) for p, methods in app.routes.items() for m in methods if m != "OPTIONS"}
    assert served == documented
    assert len(served) == 18


def test_document_is_well_formed_openapi_3() -> None:
    """Every $ref resolves, every path template names declared path parameters, every
    operation documents a JSON success response (schemathesis drives it in tests/hardening)."""
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert document["openapi"] == "3.1.0"

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(document):
        kind, name = ref.removeprefix("#/components/").split("/")
        assert ref.startswith("#/components/") and name in document["components"][kind], ref
    operation_ids = []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            operation_ids.append(op["operationId"])
            parameters = [resolve(document, p) for p in op.get("parameters", [])]
            declared = {p["name"] for p in parameters if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)
            success = [code for code in op["responses"] if code.startswith("2")]
            assert (
                len(success) == 1 and "application/json" in op["responses"][success[0]]["content"]
            )
    assert len(operation_ids) == len(set(operation_ids)) == 18


def resolve(document: dict, node: dict) -> dict:
    """``node``, or the component its ``$ref`` names."""
    if "$ref" not in node:
        return node
    kind, name = node["$ref"].removeprefix("#/components/").split("/")
    return document["components"][kind][name]


def test_shared_shapes_are_components_not_copies() -> None:
    """Nested models, the error answers and the common parameters are written once."""
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    components = document["components"]
    assert {"Error", "ErrorDetail", "ModelRef", "Because", "StoreHealth"} <= set(
        components["schemas"]
    )
    assert components["schemas"]["Recommendations"]["properties"]["model"] == {
        "$ref": "#/components/schemas/ModelRef"
    }
    assert {"path.user_id", "path.item_id", "query.k"} <= set(components["parameters"])
    text = json.dumps(document["paths"])
    assert '"#/components/schemas/Error"' not in text  # only through components/responses
    for operations in document["paths"].values():
        for op in operations.values():
            for status, answer in op["responses"].items():
                if status[0] == "4" or (status == "503" and op["operationId"] != "getHealth"):
                    assert answer["$ref"].startswith("#/components/responses/"), (op, status)


def test_openapi_route_serves_the_document(api) -> None:
    response = api.http.get("/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body) == json.loads(render())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"k": "ten"}, "k must be an integer"),
        ({"k": "0"}, "k must be between 1 and 100"),
        ({"k": "101"}, "k must be between 1 and 100"),
        ({"k": "1.5"}, "k must be an integer"),
        ({"k": "99999999999999999999"}, "k must be an integer"),
        ({"user_id": "x"}, "user_id must be an integer"),
        ({"user_id": "0"}, "user_id must be between"),
        ({"colour": "red"}, "unknown parameter(s) colour"),
        ({"model": "m" * 41}, "model must be at most 40 characters"),
        ({"user_id": "١٢"}, "user_id must be an integer"),  # Arabic-Indic digits
        ({"k": ""}, "k must be an integer, got ''"),  # empty is not absent
        ({"model": "Bad Name"}, "is not a model name"),
        ({"model": "ease\n"}, "is not a model name"),  # "$" alone would let this through
        ({"model": "-ease"}, "is not a model name"),
    ],
)
def test_bad_parameters_are_rejected_with_the_reason(raw, message) -> None:
    op = operation("GET", "/users/{user_id}/recommendations")
    values = {"user_id": "3", **raw}
    with pytest.raises(BadRequest) as error:
        parse_params(op, values)
    assert message in str(error.value)


def test_the_document_declares_exactly_what_the_validator_accepts() -> None:
    """Each declared string pattern is the one the validator applies (JSON Schema semantics:
    the whole value, no trailing newline), and integers have no empty form."""
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    model = next(
        p for p in document["paths"]["/users/{user_id}/recommendations"]["get"]["parameters"]
        if p.get("name") == "model"
    )  # fmt: skip
    pattern = model["schema"]["pattern"]
    op = operation("GET", "/users/{user_id}/recommendations")
    for value in ("", "tfrs", "ease", "a", "m0-d_1", "x" * 40, "A", "a b", "é", "a\n", "_a"):
        allowed = re.search(pattern, value) is not None and "\n" not in value
        try:
            parse_params(op, {"user_id": "3", "model": value})
            accepted = True
        except BadRequest:
            accepted = False
        assert accepted == allowed, (value, pattern)


def test_links_let_a_client_follow_a_created_user() -> None:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    links = document["paths"]["/users"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "getUser", "rateMovie", "getRecommendations", "addFeedback"
    }  # fmt: skip
    assert all(
        link["parameters"] == {"user_id": "$response.body#/user_id"} for link in links.values()
    )
    marked = document["paths"]["/users/{user_id}/feedback"]["post"]["responses"]["201"]["links"]
    assert marked["UndoNotInterested"] == {
        "operationId": "deleteFeedback",
        "parameters": {"user_id": "$request.path.user_id", "item_id": "$response.body#/item_id"},
    }


def test_parameters_get_defaults_and_types() -> None:
    op = operation("GET", "/users/{user_id}/recommendations")
    assert parse_params(op, {"user_id": "3"}).model_dump() == {
        "user_id": 3, "k": 10, "model": "", "genres": "", "year_min": None, "year_max": None,
        "offset": 0,
    }  # fmt: skip
    assert parse_params(op, {"user_id": "3", "k": " 7 ", "model": "ease"}).k == 7  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "needs a JSON object body"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"item_id": 1}', "missing field(s) rating"),
        (b'{"item_id": 1, "rating": 4, "extra": 1}', "unknown field(s) extra"),
        (b'{"item_id": "1", "rating": 4}', "item_id must be an integer"),
        (b'{"item_id": true, "rating": 4}', "item_id must be an integer"),
        (b'{"item_id": 1, "rating": "4"}', "rating must be a number"),
        (b'{"item_id": 1, "rating": 0}', "rating must be between 0.5 and 5"),
        (b'{"item_id": 1, "rating": 5.5}', "rating must be between 0.5 and 5"),
        (b'{"item_id": 1, "rating": 3.3}', "rating must be a multiple of 0.5"),
        (b'{"item_id": 1, "rating": null}', "rating must not be null"),
        (b'{"item_id": 1, "rating": NaN}', "rating must be a number"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_bad_bodies_are_rejected_with_the_reason(raw, message) -> None:
    with pytest.raises(BadRequest) as error:
        parse_body(RatingCreate, raw)
    assert message in str(error.value)


def test_integral_floats_count_as_integers_in_bodies() -> None:
    """JSON Schema's integer includes 3.0; the app stores a real int."""
    body = parse_body(RatingCreate, b'{"item_id": 3.0, "rating": 4.0}')
    assert body.model_dump() == {"item_id": 3, "rating": 4.0} and type(body.item_id) is int
    with pytest.raises(BadRequest, match="item_id must be an integer"):
        parse_body(RatingCreate, b'{"item_id": 1.5, "rating": 4}')
    with pytest.raises(BadRequest, match="item_id must be between"):
        parse_body(RatingCreate, b'{"item_id": 1e30, "rating": 4}')


def test_nullable_enums_accept_null_and_name_their_choices() -> None:
    assert parse_body(UserCreate, b'{"gender": null, "occupation": null}') == UserCreate()
    with pytest.raises(BadRequest, match=r"gender must be one of M, F$"):
        parse_body(UserCreate, b'{"gender": "X"}')


def test_feedback_kind_names_its_one_choice() -> None:
    with pytest.raises(BadRequest, match=r"kind must be one of not_interested$"):
        parse_body(FeedbackCreate, b'{"item_id": 1, "kind": "meh"}')


def test_answers_fit_their_documented_models(api) -> None:
    """What the service builds as dicts is what the pydantic models (and so the document) say."""
    created = post(api, "/users", {"age": 30, "gender": "F"})
    user, token = body(created)["user_id"], body(created)["token"]
    answers = [("POST", "/users", created)]
    answers.append(
        ("POST", "/users/{user_id}/ratings",
         post(api, f"/users/{user}/ratings", {"item_id": 1, "rating": 4.5}, token=token))
    )  # fmt: skip
    answers.append(
        ("POST", "/users/{user_id}/feedback",
         post(api, f"/users/{user}/feedback", {"item_id": 2, "kind": "not_interested"},
              token=token))
    )  # fmt: skip
    for template, path in (
        ("/health", "/health"),
        ("/users", "/users"),
        ("/users/{user_id}", f"/users/{user}"),
        ("/users/{user_id}/recommendations", f"/users/{user}/recommendations?k=3"),
        ("/users/{user_id}/feedback", f"/users/{user}/feedback"),
        ("/movies", "/movies?query=o"),
        ("/movies/popular", "/movies/popular"),
        ("/movies/genres", "/movies/genres"),
        ("/movies/{item_id}", "/movies/1"),
        ("/movies/{item_id}/similar", "/movies/1/similar"),
        ("/models", "/models"),
        ("/recommendEndpoint", "/recommendEndpoint?user_id=1"),
    ):
        answers.append(("GET", template, get(api, path, token=token)))
    for method, template, response in answers:
        op = operation(method, template)
        assert response.status_code == op.status, (template, response.body)
        op.response.model_validate(body(response))
    with pytest.raises(ValidationError):
        operation("GET", "/movies/{item_id}").response.model_validate({"item_id": 1})
