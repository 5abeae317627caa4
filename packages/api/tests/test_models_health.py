"""GET /models from the registry's real SQLite schema plus the endpoint's /ping; GET /health."""

import json
import sqlite3

from conftest import body

from chalicelib.models_info import model_info
from recs_ml.ops.registry import _SCHEMA


def _register(path, rows) -> None:
    with sqlite3.connect(path) as connection:
        connection.executescript(_SCHEMA)
        connection.execute(
            "INSERT INTO model_package_groups (name, created_at) VALUES ('recs-movielens', 1)"
        )
        for version, status, metrics in rows:
            connection.execute(
                "INSERT INTO model_packages (group_name, version, approval_status, artifact_uri, "
                "sha256, metrics, data_checksum, created_at, updated_at) "
                "VALUES ('recs-movielens', ?, ?, ?, 'abc', ?, 'def', ?, ?)",
                (version, status, f"file:///m/{version}/model.tar.gz", json.dumps(metrics),
                 1000 + version, 1000 + version),
            )  # fmt: skip


TFRS = {"tfrs": {"ndcg@10": 0.21, "recall@10": 0.3}, "mostpop": {"ndcg@10": 0.11}}


def test_models_lists_served_models_and_every_version(api, home, contract_endpoint) -> None:
    _register(
        home / "registry.db",
        [
            (6, "Rejected", {"tfrs": {"ndcg@10": 0.1}}),
            (7, "Approved", TFRS),
            (8, "PendingManualApproval", TFRS),
        ],
    )
    result = body(api.http.get("/models"))
    assert result["group"] == "recs-movielens"
    assert result["endpoint"] == {"status": "ok", "version": 7, "default_model": "tfrs"}
    assert result["models"] == [
        {"name": "tfrs", "default": True, "version": 7, "status": "Approved",
         "metrics": {"ndcg@10": 0.21, "recall@10": 0.3}, "metrics_split": "validation",
         **model_info("tfrs")},
        {"name": "mostpop", "default": False, "version": 7, "status": "Approved",
         "metrics": {"ndcg@10": 0.11}, "metrics_split": "validation",
         **model_info("mostpop")},
    ]  # fmt: skip
    assert [(v["version"], v["status"], v["serving"]) for v in result["versions"]] == [
        (6, "Rejected", False), (7, "Approved", True), (8, "PendingManualApproval", False),
    ]  # fmt: skip
    assert result["versions"][1]["artifact_uri"] == "file:///m/7/model.tar.gz"


def test_models_without_endpoint_or_registry(api, home, contract_endpoint) -> None:
    contract_endpoint.status = 503
    result = body(api.http.get("/models"))
    assert result["endpoint"]["status"] == "unavailable"
    assert result["models"] == [] and result["versions"] == []
    _register(home / "registry.db", [(1, "Approved", TFRS)])
    result = body(api.http.get("/models"))
    assert [m["name"] for m in result["models"]] == ["mostpop", "tfrs"]  # from the metrics
    assert not any(m["default"] for m in result["models"])


def test_unreadable_registry_is_503(api, home) -> None:
    (home / "registry.db").write_bytes(b"this is not a database" * 100)
    response = api.http.get("/models")
    assert response.status_code == 503
    assert "registry" in body(response)["error"]["message"]


def test_health_reports_store_and_endpoint(api, home, contract_endpoint) -> None:
    assert body(api.http.get("/health")) == {
        "status": "ok",
        "store": {"status": "ok", "backend": "sqlite", "detail": ""},
        "endpoint": {"status": "ok", "backend": "local", "version": 7, "detail": ""},
    }
    contract_endpoint.status = 503
    degraded = api.http.get("/health")
    assert degraded.status_code == 200
    assert body(degraded)["status"] == "degraded"
    assert body(degraded)["endpoint"]["status"] == "unavailable"


def test_health_is_503_without_the_store(api, home) -> None:
    (home / "store.db").unlink()
    response = api.http.get("/health")
    assert response.status_code == 503
    assert body(response)["store"]["status"] == "unavailable"
    assert "seed" in body(response)["store"]["detail"]


def test_models_shows_why_a_versions_deployment_failed(api, home, contract_endpoint) -> None:
    _register(home / "registry.db", [(7, "Approved", TFRS), (8, "Approved", TFRS)])
    with sqlite3.connect(home / "registry.db") as connection:
        connection.execute(
            "UPDATE model_packages SET deploy_error = 'the smoke request failed' WHERE version = 8"
        )
    versions = body(api.http.get("/models"))["versions"]
    assert "deploy_error" not in versions[0]
    assert versions[1]["deploy_error"] == "the smoke request failed"


def test_models_reads_a_registry_file_from_before_deploy_records(api, home, contract_endpoint):
    _register(home / "registry.db", [(7, "Approved", TFRS)])
    with sqlite3.connect(home / "registry.db") as connection:
        connection.execute("ALTER TABLE model_packages DROP COLUMN deploy_error")
    versions = body(api.http.get("/models"))["versions"]
    assert [v["version"] for v in versions] == [7] and "deploy_error" not in versions[0]


def test_models_give_test_metrics_when_the_registry_has_the_evaluation(api, home) -> None:
    """The manifest's metrics are validation figures; the evaluation step's report is test."""
    _register(home / "registry.db", [(7, "Approved", TFRS), (8, "PendingManualApproval", TFRS)])
    report = {"metrics": {"tfrs": {"ndcg@10": 0.259}, "mostpop": {"ndcg@10": 0.111}},
              "split": "test", "default_model": "tfrs"}  # fmt: skip
    with sqlite3.connect(home / "registry.db") as connection:
        connection.execute(
            "UPDATE model_packages SET evaluation = ? WHERE version = 7", (json.dumps(report),)
        )
    result = body(api.http.get("/models"))
    served = {m["name"]: (m["metrics"], m["metrics_split"]) for m in result["models"]}
    assert served == {"tfrs": ({"ndcg@10": 0.259}, "test"),
                      "mostpop": ({"ndcg@10": 0.111}, "test")}  # fmt: skip
    splits = [(v["version"], v["metrics_split"], v["metrics"]["tfrs"]["ndcg@10"])
              for v in result["versions"]]  # fmt: skip
    assert splits == [(7, "test", 0.259), (8, "validation", 0.21)]
    names = {m["name"]: m["display_name"] for m in result["models"]}
    assert names == {"tfrs": "Personal picks", "mostpop": "Most popular"}
