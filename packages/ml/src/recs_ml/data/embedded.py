"""The embedded dataset (ARCHITECTURE.md): MovieLens-100K as shipped inside the PyPI wheel
``recbole==1.2.1``, fetched with pip, unzipped into the data cache and verified by checksum."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from recs_ml.settings import get_settings

EMBEDDED_NAME = "ml-100k"
RECBOLE_WHEEL = "recbole-1.2.1-py3-none-any.whl"
RECBOLE_WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
EMBEDDED_FILES = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
}
_WHEEL_DIR = "recbole/dataset_example/ml-100k/"


class FetchError(RuntimeError):
    """The embedded dataset could not be fetched or verified."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- fetching


def embedded_dir(home: Path | None = None) -> Path:
    return (home or get_settings().home) / "data" / EMBEDDED_NAME


def embedded_is_ready(home: Path | None = None) -> bool:
    target = embedded_dir(home)
    return all(
        (target / name).is_file() and sha256_file(target / name) == digest
        for name, digest in EMBEDDED_FILES.items()
    )


def _download_wheel(dest: Path) -> Path:
    """``pip download --no-deps recbole==1.2.1`` with whichever pip is available."""
    candidates: list[list[str]] = []
    for exe in (shutil.which("pip3"), shutil.which("pip")):
        if exe:
            candidates.append([exe])
    candidates.append([sys.executable, "-m", "pip"])
    errors = []
    for pip in candidates:
        cmd = [
            *pip,
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "recbole==1.2.1",
            "-d",
            str(dest),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(f"{' '.join(pip)}: {exc}")
            continue
        wheel = dest / RECBOLE_WHEEL
        if proc.returncode == 0 and wheel.is_file():
            return wheel
        errors.append(f"{' '.join(pip)}: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    raise FetchError(
        "could not download the recbole==1.2.1 wheel that carries MovieLens-100K "
        f"({'; '.join(errors)}). Check the network or your pip index, or download "
        f"{RECBOLE_WHEEL} on another machine and run: recs data fetch --wheel PATH"
    )


def fetch_embedded(home: Path | None = None, wheel: Path | None = None) -> Path:
    """Put MovieLens-100K (RecBole atomic files) into ``RECS_HOME/data/ml-100k``, verified.

    Does nothing when the files are already there with the right checksums.
    """
    target = embedded_dir(home)
    if embedded_is_ready(home):
        return target
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            wheel = _download_wheel(Path(tmp))
        if not Path(wheel).is_file():
            raise FetchError(f"{wheel}: no such file")
        if sha256_file(Path(wheel)) != RECBOLE_WHEEL_SHA256:
            raise FetchError(f"{wheel}: checksum does not match recbole 1.2.1; refusing to use it")
        with zipfile.ZipFile(wheel) as archive:
            for name, digest in EMBEDDED_FILES.items():
                data = archive.read(_WHEEL_DIR + name)
                if hashlib.sha256(data).hexdigest() != digest:
                    raise FetchError(f"{name} inside {wheel} has an unexpected checksum")
                partial = target / (name + ".part")
                partial.write_bytes(data)
                os.replace(partial, target / name)
    return target
