"""The benchmark suite: shared helpers, the scale benchmark on a small catalog, the report and
scripts/bench.sh's handling of failing, silent and missing benchmarks. Every run writes into a
tmp RECS_BENCH_DIR, never over the committed results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from services import REPO

BENCHMARKS = REPO / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import common  # noqa: E402


@pytest.fixture
def bench_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "bench"
    monkeypatch.setenv("RECS_BENCH_DIR", str(target))
    return target


def test_percentiles_interpolate_between_ranks():
    # sorted 10, 20, 30, 40, 50: p50 is the middle; p90 sits 60% of the way from 40 to 50
    figures = common.percentiles([50, 10, 40, 20, 30])
    assert figures == pytest.approx({"p50": 30.0, "p90": 46.0, "p99": 49.6})
    assert common.percentiles([7.0], points=(0, 100)) == {"p0": 7.0, "p100": 7.0}


def test_percentiles_refuse_empty_and_nan():
    with pytest.raises(ValueError, match="at least one sample"):
        common.percentiles([])
    with pytest.raises(ValueError, match="NaN"):
        common.percentiles([1.0, float("nan")])


def test_time_calls_counts_warmup_apart():
    calls: list[int] = []
    samples = common.time_calls(lambda: calls.append(1), repeat=4, warmup=2)
    assert len(samples) == 4 and len(calls) == 6
    assert all(sample >= 0 for sample in samples)


def test_write_result_writes_the_agreed_shape(bench_dir: Path):
    path = common.write_result(
        "demo", {"p50_ms": 1.5}, "## Demo\n\n| a |\n|---|\n| 1 |", quick=True
    )
    assert path == bench_dir / "results" / "demo.json"
    record = json.loads(path.read_text())
    assert set(record) == {"name", "figures", "markdown", "machine", "quick", "date"}
    assert record["name"] == "demo" and record["quick"] is True
    assert record["figures"] == {"p50_ms": 1.5}
    assert record["machine"]["cores"] >= 1
    assert record["machine"]["memory_gib"] > 0
    assert record["machine"]["python"].startswith("3.")


def test_write_result_says_what_is_wrong(bench_dir: Path):
    with pytest.raises(ValueError, match="lowercase"):
        common.write_result("Quality Run", {"a": 1}, "x")
    with pytest.raises(ValueError, match="non-empty dict"):
        common.write_result("demo", {}, "x")
    with pytest.raises(ValueError, match="NumPy scalars"):
        common.write_result("demo", {"a": np.float32(1.0)}, "x")
    with pytest.raises(ValueError, match="NaN"):
        common.write_result("demo", {"a": float("nan")}, "x")
    assert not (bench_dir / "results" / "demo.json").exists()


def test_markdown_table_checks_row_width():
    table = common.markdown_table(["a", "b"], [[1.23456, "x|y"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1.235 | x\\|y |"]
    with pytest.raises(ValueError, match="2 cells"):
        common.markdown_table(["a"], [[1, 2]])


def run_python(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_scale_benchmark_on_a_small_catalog_and_its_report(bench_dir: Path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = run_python(
        "scale.py", "--quick", "--items", "20000", "--queries", "100", "--latency-queries", "20",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads((bench_dir / "results" / "scale.json").read_text())
    assert record["quick"] is True
    setup, methods = record["figures"]["setup"], record["figures"]["methods"]
    assert setup["items"] == 20000 and setup["dim"] == 64 and setup["k"] == 10
    for exact in ("numpy exact", "tensorflow matmul + top_k", "faiss flat (exact)"):
        assert methods[exact]["recall@10"] == pytest.approx(1.0, abs=0.005), exact
    ivf = [methods[f"faiss IVF-Flat nlist=128 nprobe={n}"] for n in (4, 16, 64)]
    # scanning more inverted lists can only find more of the true top 10
    assert ivf[0]["recall@10"] <= ivf[1]["recall@10"] <= ivf[2]["recall@10"]
    assert ivf[0]["recall@10"] < 1.0, "clustered data should make 4 of 128 lists miss some"
    sq8 = methods["faiss IVF-SQ8 nlist=128 nprobe=16"]
    assert sq8["index_mib"] < ivf[0]["index_mib"] / 2  # 8-bit codes against 32-bit floats
    assert methods["faiss HNSW M=32 efSearch=128"]["build_s"] > 0
    for figures in methods.values():
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]
        assert figures["numpy_exact_p50_ms"] > 0
        ratio = figures["numpy_exact_p50_ms"] / figures["p50_ms"]
        assert figures["speedup_vs_numpy_exact"] == pytest.approx(ratio, rel=0.01)

    done = run_python("report.py", "--status", "scale=0", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    results = (bench_dir / "RESULTS.md").read_text()
    assert "## Machine" in results
    assert f"| {record['machine']['cores']} | {record['machine']['memory_gib']} GiB |" in results
    assert "Scale: top-10 over 20,000 synthetic items (d = 64)" in results
    hnsw = methods["faiss HNSW M=32 efSearch=128"]
    assert f"| {hnsw['recall@10']:.3f} |" in results
    assert "| scale | ok | quick |" in results
    assert "| quality | not run (no result yet) |" in results


def test_scale_refuses_a_catalog_too_small(bench_dir: Path):
    done = run_python("scale.py", "--items", "10", env=dict(os.environ))
    assert done.returncode == 2
    assert "--items must be at least 1000" in done.stderr


STANDIN_OK = """
import json, os, pathlib, sys
out = pathlib.Path(os.environ["RECS_BENCH_DIR"]) / "results"
record = {"name": "NAME", "figures": {"quick": "--quick" in sys.argv}, "quick": True,
          "markdown": "## NAME stand-in\\n\\n| figure |\\n|---|\\n| 42 |\\n",
          "machine": {}, "date": "2026-01-01T00:00:00Z"}
(out / "NAME.json").write_text(json.dumps(record))
"""


def test_bench_sh_runs_past_failures_and_records_them(tmp_path: Path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "quality.py").write_text("print('training...')\nraise SystemExit('boom: no data')\n")
    (scripts / "endpoint.py").write_text("print('measured nothing')\n")  # exits 0, writes nothing
    (scripts / "api.py").write_text("print('nothing new')\n")
    (scripts / "scale.py").write_text(STANDIN_OK.replace("NAME", "scale"))
    out = tmp_path / "out"
    (out / "results").mkdir(parents=True)
    old = out / "results" / "api.json"  # an earlier run's figures, not rewritten this time
    old.write_text(json.dumps(
        {"name": "api", "figures": {"rps": 1}, "markdown": "## API earlier\n",
         "date": "2020-01-01T00:00:00Z"}
    ))  # fmt: skip
    long_ago = time.time() - 3600
    os.utime(old, (long_ago, long_ago))
    (out / "results" / "extra.json").write_text("{not json")
    env = {
        **os.environ,
        "RECS_BENCH_SCRIPTS": str(scripts),
        "RECS_BENCH_DIR": str(out),
        "RECS_HOME": str(tmp_path / "home"),
    }
    done = subprocess.run(
        ["bash", "scripts/bench.sh", "--quick"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failed: quality (exit 1) endpoint (wrote no results/endpoint.json) api (" in done.stderr
    ran = [line for line in done.stdout.splitlines() if line.startswith("==> benchmark")]
    assert [line.split()[2].rstrip(":") for line in ran] == [
        "quality", "newusers", "pipeline", "endpoint", "api", "ui", "scale", "datasizes", "spark",
        "multiworker", "demo",
    ]  # fmt: skip
    assert json.loads((out / "results" / "scale.json").read_text())["figures"] == {"quick": True}
    results = (out / "RESULTS.md").read_text()
    assert "| quality | **FAILED** (exit code 1) |" in results
    assert "boom: no data" in results  # the end of its log
    assert "| pipeline | missing (benchmarks/pipeline.py does not exist yet) |" in results
    assert "| demo | missing (benchmarks/demo.py does not exist yet) |" in results
    assert "| endpoint | **FAILED** (exited 0 but wrote no results/endpoint.json) |" in results
    assert "| api | stale (results/api.json was not rewritten by this run) |" in results
    assert "| scale | ok | quick |" in results
    assert "| extra | **INVALID** (extra.json is not readable JSON" in results
    assert "## scale stand-in" in results and "## API earlier" in results
    assert (tmp_path / "home" / "logs" / "bench" / "quality.log").exists()


def test_bench_sh_rejects_unknown_names():
    done = subprocess.run(
        ["bash", "scripts/bench.sh", "qualty"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "unknown benchmark 'qualty'" in done.stderr


def test_newusers_replays_the_first_ratings_as_history_and_the_next_as_relevant():
    """Hand-checked: user 7 has 7 ratings (5 history, 2 next), user 8 only 5 (left out)."""
    import newusers

    from recs_ml.data.datasets import Ratings

    rows = [(7, 10 + i, 4.0, 100 - i) for i in range(7)] + [(8, i, 3.0, i) for i in range(1, 6)]
    ratings = Ratings.from_rows(rows)
    users, histories, relevant = newusers.replay(ratings, np.array([7, 8]))
    # user 7 rated in time order 16, 15, ..., 10 (timestamps run the other way).
    assert users == [7] and histories == [[16, 15, 14, 13, 12]] and relevant == {7: {11, 10}}
    chosen = newusers.split_users(np.array([1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 0.2, seed=0)
    assert len(chosen) == 2 and set(chosen) <= set(range(1, 11))
    assert list(chosen) == list(newusers.split_users(np.arange(1, 11), 0.2, seed=0))
