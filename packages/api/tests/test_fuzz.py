"""No input produces a 500: random parameters and JSON bodies against every route."""

import json
import urllib.parse

import pytest
from conftest import new_user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.operations import OPERATIONS

TEXT = st.text(max_size=30)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["item_id", "rating", "age", "gender", "x"]), children)
    ),
    max_leaves=8,
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _path(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", urllib.parse.quote(value, safe="") or "0")
    return template


@FUZZ
@given(data=st.data())
def test_random_parameters_never_give_a_500(api, data) -> None:
    for op in OPERATIONS:
        if op.method != "GET":
            continue
        in_path = op.path_names()
        path_values = {
            name: data.draw(TEXT | st.integers(-5, 10).map(str)) for name in sorted(in_path)
        }
        query = {
            name: data.draw(TEXT | st.integers(-5, 200).map(str))
            for name in op.params.model_fields
            if name not in in_path and data.draw(st.booleans())
        }
        url = _path(op.path, path_values)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        response = api.http.get(url)
        # 401: an API user's data without its token
        assert response.status_code in (200, 400, 401, 403, 404), (url, response.body)
        if response.status_code != 200 and response.status_code != 403:
            assert set(json.loads(response.body)["error"]) == {"code", "message"}


@pytest.fixture(autouse=True)
def _many_users_per_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every example creates users from one address; the per-client cap is tested elsewhere."""
    monkeypatch.setenv("RECS_MAX_USERS_PER_CLIENT_PER_HOUR", "100000")


@FUZZ
@given(payload=JSON, user=st.sampled_from(["1", "2", "999", "x"]))
def test_random_bodies_never_give_a_500(api, payload, user) -> None:
    raw = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    owner, token = new_user(api)  # the body reaches validation only with the user's token
    signed = {**headers, "Authorization": f"Bearer {token}"}
    for path, sent, allowed in (
        ("/users", headers, (201, 400)),
        (f"/users/{owner}/ratings", signed, (201, 400, 404, 409)),
        (f"/users/{user}/ratings", signed, (400, 403, 404)),  # another user: never written
        (f"/users/{user}/ratings", headers, (400, 401)),
    ):
        response = api.http.post(path, body=raw, headers=sent)
        assert response.status_code in allowed, (path, raw, response.body)
