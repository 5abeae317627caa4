"""A full or read-only RECS_HOME and a truncated dataset: clear errors, nothing stored is lost.

The full and read-only disks are real: a small tmpfs filled to the last byte, then remounted
read-only (needs mount privileges; skipped with the reason otherwise).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hardening_stack import API_DIR, Stack

sys.path.insert(0, str(API_DIR))

from chalicelib.endpoint import LocalEndpoint  # noqa: E402
from chalicelib.errors import Unavailable  # noqa: E402
from chalicelib.registry import LocalRegistry  # noqa: E402
from chalicelib.service import Caller, RecsService  # noqa: E402
from chalicelib.sqlite_store import SqliteStore  # noqa: E402


@pytest.fixture
def small_disk(tmp_path: Path, stack: Stack) -> Iterator[Path]:
    """A tmpfs just big enough for a copy of the seeded store plus a little room."""
    mount = tmp_path / "disk"
    mount.mkdir()
    size = stack.store_path.stat().st_size + 2 * 1024 * 1024
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); needs root")
    try:
        source = sqlite3.connect(stack.store_path)
        copy = sqlite3.connect(mount / "store.db")
        source.backup(copy)
        source.close()
        copy.close()
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _service(path: Path) -> RecsService:
    return RecsService(
        SqliteStore(path, timeout=2),
        LocalEndpoint("http://127.0.0.1:9", 0.2),
        LocalRegistry(path.parent / "registry.db", "recs-movielens"),
    )


def _fill(directory: Path) -> None:
    # Unbuffered: a buffer left half-written by the refused write would fail again at close.
    with open(directory / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass


def _new_user(service: RecsService, body: dict[str, Any]) -> tuple[int, Caller]:
    """A new API user and a caller holding its token (writes on it need the token)."""
    created = service.create_user(body)
    return created["user_id"], Caller(token=created["token"])


def test_full_disk_is_a_clear_503_and_stored_ratings_survive(small_disk: Path) -> None:
    service = _service(small_disk / "store.db")
    user, owner = _new_user(service, {"age": 30})
    kept = service.rate(user, {"item_id": 1, "rating": 4.0}, owner)
    _fill(small_disk)
    with pytest.raises(Unavailable) as error:
        for item in range(2, 400):  # the WAL grows until the disk refuses a page
            service.rate(user, {"item_id": item, "rating": 3.0}, owner)
    assert error.value.status == 503
    assert "full" in error.value.message and "store" in error.value.message
    (small_disk / "filler").unlink()
    # The store is still consistent and still has what it acknowledged.
    fresh = _service(small_disk / "store.db")
    assert fresh.get_user(user, owner)["history"][-1]["item_id"] == kept["item_id"]
    with sqlite3.connect(small_disk / "store.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_read_only_disk_is_a_clear_503_and_nothing_is_lost(small_disk: Path) -> None:
    service = _service(small_disk / "store.db")
    user, owner = _new_user(service, {})
    service.rate(user, {"item_id": 7, "rating": 5.0}, owner)
    service.store.close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    # WAL mode needs its -shm file beside the database, so even reads are refused: a 503 that
    # names the store file, never a 500 or a hang.
    service = _service(small_disk / "store.db")
    for attempt in (
        lambda: service.get_user(user, owner),
        lambda: service.rate(user, {"item_id": 8, "rating": 2.0}, owner),
        lambda: service.create_user({}),
    ):
        with pytest.raises(Unavailable) as error:
            attempt()
        assert error.value.status == 503
        assert str(small_disk / "store.db") in error.value.message
    service.store.close()
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    history = _service(small_disk / "store.db").get_user(user, owner)["history"]
    assert [(h["item_id"], h["rating"]) for h in history] == [(7, 5.0)]


def test_truncated_dataset_is_refused_with_file_and_line(tmp_path: Path, stack: Stack) -> None:
    from recs_ml.data.datasets import DataError, load_recbole

    source = stack.home / "data" / "ml-100k"
    target = tmp_path / "ml-100k"
    shutil.copytree(source, target)
    inter = target / "ml-100k.inter"
    raw = inter.read_bytes()
    inter.write_bytes(raw[: len(raw) // 2 - 3])  # cut in the middle of a line
    with pytest.raises(DataError, match=r"ml-100k\.inter, line \d+"):
        load_recbole(target)
    # The API's seeding refuses it too and leaves the existing store untouched.
    before = stack.store_path.stat().st_size, _count(stack.store_path)
    seeded = subprocess.run(
        [sys.executable, "-m", "chalicelib.seed", "--data", str(target)],
        cwd=API_DIR,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode != 0
    assert "ml-100k.inter" in seeded.stderr and "line" in seeded.stderr, seeded.stderr
    assert _count(stack.store_path) == before[1]


def _count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0])
