"""`chalice local` as a real server: CORS (preflight included) and concurrent writes over HTTP."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import running_contract_endpoint, seeded_home

API_DIR = Path(__file__).resolve().parents[1]
ORIGIN = "http://127.0.0.1:4173"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request(url: str, method: str = "GET", data: bytes | None = None, headers=None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_contract_endpoint() as endpoint:
        yield from _chalice_local(seeded_home(tmp_path_factory.mktemp("home")), endpoint.url)


def _chalice_local(home, endpoint_url):
    port = _free_port()
    chalice = Path(sys.executable).with_name("chalice")
    env = {**os.environ, "RECS_HOME": str(home), "RECS_ENDPOINT_URL": endpoint_url,
           "RECS_WEB_ORIGIN": ORIGIN}  # fmt: skip
    process = subprocess.Popen(
        [str(chalice), "local", "--no-autoreload", "--host", "127.0.0.1", "--port", str(port)],
        cwd=API_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _request(url + "/openapi.json")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"chalice local did not start: {process.stderr.read().decode()}")
        time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def test_cors_allows_only_the_configured_origin(server) -> None:
    status, headers, _ = _request(server + "/users/1", headers={"Origin": ORIGIN})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    status, headers, _ = _request(
        server + "/users",
        method="OPTIONS",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "content-type" in headers["Access-Control-Allow-Headers"].lower()
    # Another origin is never echoed back, so browsers refuse the response.
    _, headers, _ = _request(server + "/users/1", headers={"Origin": "http://localhost:4173"})
    assert headers["Access-Control-Allow-Origin"] == ORIGIN


def test_errors_over_http_keep_their_shape(server) -> None:
    status, _, raw = _request(server + "/users/999")
    assert status == 404 and json.loads(raw)["error"]["code"] == "not_found"
    status, _, raw = _request(server + "/users/1/recommendations?k=500")
    assert status == 400 and "k must be between 1 and 100" in json.loads(raw)["error"]["message"]


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "QUERY", "BREW"])
def test_methods_the_api_does_not_declare_are_a_json_405(server, method) -> None:
    """http.server would answer 501 with an HTML page; API Gateway refuses these methods."""
    with socket.create_connection(("127.0.0.1", int(server.rsplit(":", 1)[1])), 10) as sock:
        sock.sendall(f"{method} /users HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    assert status_line.split()[1] == "405", raw
    assert headers["Content-Type"] == "application/json"
    assert "GET" in headers["Allow"] and method not in headers["Allow"]
    error = json.loads(payload)["error"]
    assert error["code"] == "method_not_allowed"
    assert repr(method) in error["message"]


def test_a_declared_method_on_a_route_without_it_is_a_json_405(server) -> None:
    status, headers, raw = _request(server + "/health", method="PATCH", data=b"{}")
    assert status == 405
    assert json.loads(raw)["error"]["code"] == "method_not_allowed"


def test_concurrent_ratings_over_http_are_all_stored(server) -> None:
    headers = {"Content-Type": "application/json"}
    created = [json.loads(_request(server + "/users", "POST", b"{}", headers)[2]) for _ in range(4)]
    users = [c["user_id"] for c in created]
    tokens = {c["user_id"]: c["token"] for c in created}

    def rate(pair):
        user_id, item_id = pair
        payload = json.dumps({"item_id": item_id, "rating": 4}).encode()
        signed = {**headers, "Authorization": f"Bearer {tokens[user_id]}"}
        return _request(f"{server}/users/{user_id}/ratings", "POST", payload, signed)[0]

    pairs = [(u, i) for u in users for i in range(1, 7)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(rate, pairs))
    assert statuses == [201] * len(pairs)
    for user_id in users:
        signed = {"Authorization": f"Bearer {tokens[user_id]}"}
        detail = json.loads(_request(f"{server}/users/{user_id}", headers=signed)[2])
        assert detail["ratings_count"] == 6
    # The second identical round is all conflicts, none stored twice.
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(rate, pairs)) == {409}
