import sqlite3

import pytest

from recs_contracts.registry import (
    APPROVED,
    PENDING,
    RegistryView,
    create_schema,
    group_name,
    next_version,
)


def register(db: sqlite3.Connection, group: str, status: str) -> int:
    version = next_version(db, group)
    db.execute(
        "INSERT OR IGNORE INTO model_package_groups (name, created_at) VALUES (?, 1)", (group,)
    )
    db.execute(
        "INSERT INTO model_packages (group_name, version, approval_status, artifact_uri, sha256, "
        "metrics, data_checksum, created_at, updated_at) VALUES (?,?,?,'file:///a','h','{}','d',1,2)",
        (group, version, status),
    )
    return version


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "registry.db"
    with sqlite3.connect(path) as db:
        create_schema(db)
        assert [register(db, "g", s) for s in (PENDING, APPROVED, APPROVED, PENDING)] == [
            1,
            2,
            3,
            4,
        ]
        register(db, "other", APPROVED)
    return path


def test_view_lists_filters_and_finds_the_latest(path):
    view = RegistryView(path)
    assert view.groups() == ["g", "other"]
    assert [p.version for p in view.packages("g")] == [1, 2, 3, 4]
    assert [p.version for p in view.packages("g", status=APPROVED)] == [2, 3]
    assert view.latest("g", APPROVED).version == 3 and view.latest("g").version == 4
    package = view.package("g", 2)
    assert (package.approval_status, package.metrics, package.evaluation) == (APPROVED, "{}", None)
    assert view.package("g", 9) is None and view.latest("none") is None
    with pytest.raises(ValueError, match="unknown status"):
        view.packages("g", status="Deployed")


def test_a_missing_file_is_empty_and_the_view_never_creates_it(tmp_path):
    view = RegistryView(tmp_path / "registry.db")
    assert view.packages("g") == [] and view.groups() == []
    assert not (tmp_path / "registry.db").exists()


def test_files_of_older_registries_read_without_the_later_columns(path):
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE model_packages DROP COLUMN deploy_error")
        db.execute("ALTER TABLE model_packages DROP COLUMN evaluation")
    assert RegistryView(path).package("g", 1).deploy_error is None
    with sqlite3.connect(path) as db:
        create_schema(db)  # the writer adds deploy_error back
        columns = {row[1] for row in db.execute("PRAGMA table_info(model_packages)")}
    assert "deploy_error" in columns


def test_the_group_comes_from_the_environment_or_the_default():
    assert group_name({}) == "recs-movielens" == group_name({"RECS_MODEL_PACKAGE_GROUP": ""})
    assert group_name({"RECS_MODEL_PACKAGE_GROUP": "mine"}) == "mine"
