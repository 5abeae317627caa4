"""Checksums and the step cache of ``recs pipeline run``: a step whose inputs, parameters and
code were seen before reuses the outputs kept under ``RECS_HOME/cache/<step>/<key>/``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import recs_ml
from recs_ml.data.embedded import sha256_file


def tree_checksum(path: Path) -> str:
    """sha256 over a file, or over every file of a directory (relative names + contents)."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(item.relative_to(path).as_posix().encode())
        digest.update(sha256_file(item).encode())
    return digest.hexdigest()


def code_version() -> str:
    """sha256 of the recs_ml sources: any code change invalidates every cached step."""
    root = Path(recs_ml.__file__).parent
    digest = hashlib.sha256()
    for source in sorted(root.rglob("*.py")):
        digest.update(source.relative_to(root).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def cache_key(step: str, command: list[str], inputs: dict[str, str], params: Any) -> str:
    blob = json.dumps(
        {
            "step": step,
            "command": command[1:],
            "inputs": inputs,
            "params": params,
            "code": code_version(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def copy_tree(source: Path, target: Path) -> None:
    """Hard links where possible: cached outputs are never modified after they are written."""
    if target.exists():
        shutil.rmtree(target)

    def link_or_copy(src: str, dst: str) -> object:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        return dst

    shutil.copytree(source, target, copy_function=link_or_copy)


def write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)
