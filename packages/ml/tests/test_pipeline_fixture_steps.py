"""Step scripts with the contract's command lines, for runner tests that must stay fast.

Run as ``python test_pipeline_fixture_steps.py <process|train|evaluate> [options]``: the
process step copies its input, train copies the tiny artifact of ``test_endpoint_model``
(exported once, named by ``RECS_TEST_TINY_ARTIFACT``)
(``--hp ndcg=0.3`` sets the evaluation result, ``--hp fail=1`` makes training fail), evaluate
writes ``evaluation.json`` in the contract's shape.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    step, rest = argv[0], argv[1:]
    parser = argparse.ArgumentParser(prog=step)
    parser.add_argument("--data")
    parser.add_argument("--store")
    parser.add_argument("--engine", choices=("local", "spark"), default="local")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--hp", action="append", default=[])
    args = parser.parse_args(rest)
    if step == "process":
        (args.output / "train").mkdir(parents=True, exist_ok=True)
        (args.output / "meta").mkdir(parents=True, exist_ok=True)
        source = Path(args.data)
        shutil.copyfile(source, args.output / "train" / source.name)
        (args.output / "meta" / "store").write_text(args.store or "none")
        (args.output / "meta" / "engine").write_text(args.engine)
        print("processed", source)
        return 0
    if step == "train":
        hp = dict(pair.split("=", 1) for pair in args.hp)
        if hp.get("fail") == "1":
            print("training diverged: loss is NaN", file=sys.stderr)
            return 3
        # A tiny artifact exported once per test session (TensorFlow startup is the slow part).
        shutil.copytree(os.environ["RECS_TEST_TINY_ARTIFACT"], args.model_dir, dirs_exist_ok=True)
        (args.model_dir / "tfrs" / "1" / "assets.extra").mkdir(exist_ok=True)
        # The evaluation result travels inside the artifact so evaluate can read it.
        (args.model_dir / "tfrs" / "1" / "assets.extra" / "ndcg").write_text(hp.get("ndcg", "0.3"))
        from recs_ml.serving.artifact import read_manifest, write_manifest

        write_manifest(args.model_dir, read_manifest(args.model_dir))
        print("trained")
        return 0
    if step == "evaluate":
        ndcg = float((args.model_dir / "tfrs" / "1" / "assets.extra" / "ndcg").read_text())
        args.output.mkdir(parents=True, exist_ok=True)
        report = {
            "default_model": "tfrs",
            "metrics": {
                "tfrs": {"ndcg@10": ndcg},
                "ease": {"ndcg@10": 0.19},
                "mostpop": {"ndcg@10": 0.11},
            },
            "split": "test",
            "users": 3,
        }
        (args.output / "evaluation.json").write_text(json.dumps(report))
        print("evaluated")
        return 0
    print(f"unknown step {step}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
