"""How long `scripts/demo.sh` takes until its URLs are up: fresh (empty RECS_HOME holding only
the fetched dataset, so the pipeline trains) and warm (the same home again: the approved
model is reused). Each run is stopped with SIGINT, as Ctrl-C would, and must free its ports.

`--quick` trains with fast parameters (1 epoch, no ranker); the full run uses the defaults.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, argument_parser, markdown_table, write_result
from harness import (
    StackError,
    fetched_dataset,
    free_port,
    interrupt,
    port_is_open,
    start_interruptible,
    wait_for_output,
)

QUICK_PARAMS = "epochs=1 ranker=off ease_lambdas=500 baseline=0"
READY = "Recommendations are up"


def run_demo(
    home: Path, params: str, ports: dict[str, int], timeout: float
) -> dict[str, float | bool]:
    """Start the demo, time it until it prints the URLs, stop it with SIGINT."""
    env = {**os.environ, "RECS_HOME": str(home), "RECS_DEMO_PARAMS": params}
    env.update({key: str(value) for key, value in ports.items()})
    log = home / "demo-bench.log"
    started = time.perf_counter()
    demo = start_interruptible(["bash", "scripts/demo.sh"], cwd=REPO, env=env, log=log)
    try:
        wait_for_output(demo, log, READY, timeout)
    except StackError as error:
        interrupt(demo)
        raise RuntimeError(f"demo.sh was not up: {error}") from None
    up = time.perf_counter() - started
    stop_started = time.perf_counter()
    code = interrupt(demo, 60)
    stop = time.perf_counter() - stop_started
    text = log.read_text(errors="replace")
    return {
        "up_s": round(up, 2),
        "stop_s": round(stop, 2),
        "pipeline_ran": "==> pipeline:" in text,
        "ports_freed": not any(port_is_open(port) for port in ports.values()),
        "exit_code": code,
    }


def main() -> None:
    parser = argument_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    params = QUICK_PARAMS if args.quick else os.environ.get("RECS_DEMO_PARAMS", "")
    try:
        source = fetched_dataset()
    except StackError as error:
        sys.exit(str(error))
    home = Path(tempfile.mkdtemp(prefix="recs-demo-bench-"))
    try:
        shutil.copytree(source, home / "data" / "ml-100k")
        # The same ports twice, as a person runs it: the warm run reuses the built page too.
        ports = {name: free_port() for name in ("RECS_ENDPOINT_PORT", "RECS_API_PORT")}
        ports["RECS_WEB_PORT"] = free_port()
        fresh = run_demo(home, params, ports, timeout=900 if args.quick else 3600)
        warm = run_demo(home, params, ports, timeout=300)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    for name, run in (("fresh", fresh), ("warm", warm)):
        if not run["ports_freed"] or run["exit_code"] != 0:
            sys.exit(f"the {name} demo did not stop cleanly: {run}")
    if warm["pipeline_ran"]:
        sys.exit("the warm demo ran the pipeline again instead of reusing the approved model")
    figures = {
        "fresh_up_s": fresh["up_s"],
        "warm_up_s": warm["up_s"],
        "fresh_stop_s": fresh["stop_s"],
        "warm_stop_s": warm["stop_s"],
        "pipeline_params": params or "defaults",
    }
    table = markdown_table(
        ["run", "until the URLs are printed (s)", "pipeline ran", "Ctrl-C to ports free (s)"],
        [
            ["fresh (dataset only)", fresh["up_s"], fresh["pipeline_ran"], fresh["stop_s"]],
            ["warm (second run)", warm["up_s"], warm["pipeline_ran"], warm["stop_s"]],
        ],
    )
    markdown = (
        "## One-command demo (`scripts/demo.sh`)\n\n"
        f"Pipeline parameters: `{params or 'defaults'}`. Fresh = a RECS_HOME holding only the "
        "fetched dataset (Python and web dependencies already installed); warm = the same "
        "RECS_HOME again.\n\n" + table
    )
    write_result("demo", figures, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
