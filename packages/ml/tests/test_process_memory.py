"""The process step's memory is bounded by design: a 1M-rating file in a child process."""

import json
import subprocess
import sys

from recs_ml.data.synth import SynthConfig, write_synthetic

# Columnar processing holds a few copies of 24 bytes a rating plus the interpreter and
# pyarrow: 337-441 MB measured for this million ratings (pyarrow's reader threads vary it).
# The ceiling fails a step that holds per-rating Python objects or a dense users x items
# matrix (the 1M ratings below would need 6 GB as float64), with room for that variation.
PEAK_RSS_CEILING_MB = 600


def test_process_step_on_a_million_ratings_stays_under_the_ceiling(tmp_path):
    data = tmp_path / "million.csv"
    write_synthetic(SynthConfig(ratings=1_000_000, users=20_000, items=40_000, seed=5), data)
    output = tmp_path / "processed"
    # VmHWM is the peak of this process's own memory since exec; ru_maxrss would also count
    # what the child shared with this (TensorFlow-laden) test process before exec.
    script = (
        "import json, re, sys\n"
        "from recs_ml.pipeline.steps.process import main\n"
        "code = main(sys.argv[1:])\n"
        "status = open('/proc/self/status').read()\n"
        "peak = int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
        "print(json.dumps({'code': code, 'peak_kb': peak}), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "--data", str(data), "--no-store", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    peak_mb = report["peak_kb"] / 1024
    assert peak_mb < PEAK_RSS_CEILING_MB, f"process step peaked at {peak_mb:.0f} MB"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["ratings"] == 1_000_000
    assert summary["train"] + summary["test"] == 1_000_000
    shards = sorted((output / "train" / "shards").glob("part-*.parquet"))
    assert shards, "no train shards written"
