"""Fixtures: a tiny dataset seeded into a fresh SQLite store per test, and a real HTTP server
that implements the endpoint contract (docs/contracts.md, "Endpoint")."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalicelib import wiring  # noqa: E402
from chalicelib.seed import read_dataset  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402
from chalicelib.sqlite_store import SqliteStore  # noqa: E402

# 5 users, 6 movies. Ratings (user, item, rating, timestamp):
RATINGS = [
    (1, 1, 5, 100), (1, 2, 4, 110), (1, 3, 3, 120),
    (2, 1, 4, 200), (2, 2, 5, 210),
    (3, 1, 3, 300), (3, 4, 2, 310),
    (4, 2, 1, 400), (4, 3, 4, 410), (4, 5, 5, 420),
    (5, 1, 4, 500),
]  # fmt: skip
MOVIES = [
    (1, "Toy Story", "1995", "Animation Children's Comedy"),
    (2, "GoldenEye", "1995", "Action Adventure Thriller"),
    (3, "Four Rooms", "1995", "Thriller"),
    (4, "Get Shorty", "1995", "Action Comedy Drama"),
    (5, "Copycat", "1995", "Crime Drama Thriller"),
    (6, "Shanghai Triad", "", "unknown"),
]
USERS = [
    (1, 24, "M", "technician"),
    (2, 53, "F", "other"),
    (3, 23, "M", "writer"),
    (4, 24, "M", "technician"),
    (5, 33, "F", "other"),
]


def write_dataset(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ml-100k.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in RATINGS)
    )
    (directory / "ml-100k.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        + "".join(f"{i}\t{t}\t{y}\t{g}\n" for i, t, y, g in MOVIES)
    )
    (directory / "ml-100k.user").write_text(
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
        + "".join(f"{u}\t{a}\t{g}\t{o}\t00000\n" for u, a, g, o in USERS)
    )
    return directory


def seeded_home(path: Path) -> Path:
    """``path`` as a RECS_HOME: the tiny dataset, seeded into store.db."""
    write_dataset(path / "data" / "ml-100k")
    SqliteStore(path / "store.db").seed(read_dataset(path / "data" / "ml-100k"))
    return path


@contextmanager
def moto_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty ratings table in moto's DynamoDB (the store's own table definition)."""
    import boto3
    from moto import mock_aws

    from chalicelib.dynamodb_store import table_definition

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(name, value)
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        resource.create_table(**table_definition("recs-ratings"))
        yield resource.Table("recs-ratings")


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_table(monkeypatch) as ratings:
        yield ratings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh RECS_HOME with the tiny dataset seeded into store.db; the service is rebuilt."""
    seeded_home(tmp_path)
    monkeypatch.setenv("RECS_HOME", str(tmp_path))
    for name in ("RECS_STORE_PATH", "RECS_REGISTRY_PATH", "RECS_ENDPOINT_NAME", "RECS_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECS_ENDPOINT_TIMEOUT", "0.5")
    get_settings.cache_clear()
    wiring.use(None)
    yield tmp_path
    wiring.use(None)
    get_settings.cache_clear()


@dataclass
class ContractEndpoint:
    """State of the contract server: what it received and how it should behave."""

    url: str = ""
    models: tuple[str, ...] = ("tfrs", "mostpop")
    default_model: str = "tfrs"
    version: int = 7
    delay: float = 0.0
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)


def _ranking(
    instance: dict[str, Any], catalog: list[int], model: str
) -> tuple[list[int], list[float]]:
    """A deterministic stand-in model: catalog order, minus history and exclusions (the
    ``leaky`` model forgets to drop the history, like a buggy one would)."""
    seen = {i for i in instance["exclude"] + ([] if model == "leaky" else instance["history"]) if i}
    items = [i for i in catalog if i not in seen][: instance["k"]]
    return items, [1.0 / (rank + 1) for rank in range(len(items))]


@pytest.fixture
def contract_endpoint() -> Iterator[ContractEndpoint]:
    with running_contract_endpoint() as state:
        yield state


@contextmanager
def running_contract_endpoint() -> Iterator[ContractEndpoint]:
    """Serve the endpoint contract on a free loopback port until the block ends."""
    state = ContractEndpoint()
    catalog = [5, 3, 4, 6, 2, 1]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != "/ping":
                return self._send(404, {"error": "not found"})
            if state.status != 200:
                return self._send(503, {"error": "no model loaded"})
            self._send(200, {"status": "ok", "model_name": "recs-movielens",
                             "version": state.version, "models": list(state.models),
                             "default_model": state.default_model})  # fmt: skip

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            attributes = self.headers.get("X-Amzn-SageMaker-Custom-Attributes", "")
            model = attributes.partition("tfs-model-name=")[2] or state.default_model
            state.requests.append({"body": body, "model": model, "attributes": attributes})
            time.sleep(state.delay)
            if state.status != 200:
                return self._send(state.status, {"error": "no model loaded"})
            if model not in state.models:
                return self._send(400, {"error": f"unknown model {model!r}"})
            predictions = []
            for instance in body["instances"]:
                item_ids, scores = _ranking(instance, catalog, model)
                predictions.append({"item_ids": item_ids, "scores": scores})
            self._send(
                200,
                {"predictions": predictions},
                {"X-Recs-Model-Version": str(state.version), "X-Recs-Model-Name": model},
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(home: Path, contract_endpoint: ContractEndpoint, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A chalice.test.Client over the app, wired to the tiny store and the contract server."""
    from chalice.test import Client

    from app import app

    monkeypatch.setenv("RECS_ENDPOINT_URL", contract_endpoint.url)
    get_settings.cache_clear()
    with Client(app) as client:
        yield client


def body(response: Any) -> Any:
    return json.loads(response.body)


def stub_model_packages(
    stub: Any, group: str, created: Any, packages: list[tuple[int, str, str, dict[str, Any]]]
) -> None:
    """Queue SageMaker's answers to one ``SageMakerRegistry.versions()`` call on a botocore
    Stubber: ``list_model_packages``, then ``describe_model_package`` per package, each given as
    ``(version, approval status, ModelDataUrl, further describe fields)``."""
    arn = f"arn:aws:sagemaker:us-east-1:1:model-package/{group}/"
    stub.add_response(
        "list_model_packages",
        {"ModelPackageSummaryList": [
            {"ModelPackageGroupName": group, "ModelPackageVersion": version,
             "ModelPackageArn": arn + str(version), "CreationTime": created,
             "ModelPackageStatus": "Completed", "ModelApprovalStatus": status}
            for version, status, _, _ in packages
        ]},
        {"ModelPackageGroupName": group, "MaxResults": 100},
    )  # fmt: skip
    for version, status, artifact, fields in packages:
        stub.add_response(
            "describe_model_package",
            {"ModelPackageName": group, "ModelPackageGroupName": group,
             "ModelPackageVersion": version, "ModelPackageArn": arn + str(version),
             "CreationTime": created, "ModelPackageStatus": "Completed",
             "ModelPackageStatusDetails": {"ValidationStatuses": []},
             "ModelApprovalStatus": status,
             "InferenceSpecification": {
                 "Containers": [{"Image": "tfs", "ModelDataUrl": artifact}],
                 "SupportedContentTypes": ["application/json"],
                 "SupportedResponseMIMETypes": ["application/json"]},
             **fields},
            {"ModelPackageName": arn + str(version)},
        )  # fmt: skip


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def post(
    client: Any, path: str, payload: Any, raw: bytes | None = None, token: str | None = None
) -> Any:
    data = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **auth(token)}
    return client.http.post(path, body=data, headers=headers)


def get(client: Any, path: str, token: str | None = None) -> Any:
    return client.http.get(path, headers=auth(token))


def new_user(client: Any, payload: dict[str, Any] | None = None) -> tuple[int, str]:
    """Create an API user; (its id, its token)."""
    response = post(client, "/users", payload or {})
    assert response.status_code == 201, response.body
    created = body(response)
    return created["user_id"], created["token"]
