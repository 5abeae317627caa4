"""API latency and throughput under wrk: p50/p99 and requests per second at concurrency 1 and 8.

Starts the local stack on loopback in a scratch RECS_HOME: the store seeded from the embedded
MovieLens-100K, `recs serve` on the newest approved registry version (the real model when
RECS_HOME's registry has one, else tests/tiny_model.py's stand-in over the full catalog), and
`chalice local`. Every wrk run is bounded by its duration; needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import REPO, argument_parser, markdown_table, write_result

API_DIR = REPO / "packages" / "api"
BIN = Path(sys.executable).parent
ROUTES = [
    ("recommendations", "GET", "/users/3/recommendations?k=10"),
    ("user detail", "GET", "/users/3"),
    ("movie search", "GET", "/movies?query=star&limit=20"),
    ("similar movies", "GET", "/movies/50/similar?k=10"),
    ("create user (write)", "POST", "/users"),
]
POST_SCRIPT = """wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"{url} did not come up; log:\n{log.read_text()[-3000:]}")


def stop(processes: list[subprocess.Popen]) -> None:
    """Terminate the stack's processes, last started first; kill any that lingers 30 s."""
    for process in reversed(processes):
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def approved_version(registry: Path) -> int | None:
    if not registry.is_file():
        return None
    with sqlite3.connect(f"file:{registry}?mode=ro", uri=True) as connection:
        row = connection.execute(
            "SELECT MAX(version) FROM model_packages WHERE approval_status = 'Approved'"
        ).fetchone()
    return row[0] if row else None


def parse_wrk(output: str) -> dict[str, float]:
    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    figures = {
        "p50_ms": ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),  # type: ignore[union-attr]
        "p99_ms": ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),  # type: ignore[union-attr]
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
    }
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    figures["non_2xx"] = float(bad.group(1)) if bad else 0.0
    figures["socket_errors"] = float(sum(int(g) for g in errors.groups())) if errors else 0.0
    return figures


def main() -> int:
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run")
    args = parser.parse_args()
    duration = args.duration or (3 if args.quick else 10)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    real_home = Path(os.environ.get("RECS_HOME") or REPO / ".recs")
    data = real_home / "data" / "ml-100k"
    if not (data / "ml-100k.inter").is_file():
        raise SystemExit(f"{data} is missing: run scripts/setup.sh first")

    scratch = Path(tempfile.mkdtemp(prefix="recs-bench-api-"))
    processes: list[subprocess.Popen] = []
    try:
        # wrk creates thousands of users from one address: lift the per-client cap, which
        # would otherwise turn the write benchmark into a measure of 429s.
        env = {**os.environ, "RECS_HOME": str(scratch),
               "TF_CPP_MIN_LOG_LEVEL": "2",
               "RECS_MAX_USERS_PER_CLIENT_PER_HOUR": "1000000"}  # fmt: skip
        (scratch / "data").mkdir()
        (scratch / "data" / "ml-100k").symlink_to(data)
        subprocess.run([str(BIN / "python"), "-m", "chalicelib.seed"], env=env, check=True)

        version = approved_version(real_home / "registry.db")
        if version is not None:
            # The registry's artifact paths are absolute, so a copy serves the real model.
            shutil.copy(real_home / "registry.db", scratch / "registry.db")
            model = f"registry version {version}"
        else:
            script = API_DIR / "tests" / "tiny_model.py"
            subprocess.run([str(BIN / "python"), str(script), str(scratch / "artifact"), "1682"],
                           env=env, check=True, capture_output=True)  # fmt: skip
            model = "stand-in (tests/tiny_model.py, 1682 items)"

        endpoint_port, api_port = free_port(), free_port()
        endpoint_log, api_log = scratch / "endpoint.log", scratch / "api.log"
        endpoint = subprocess.Popen(
            [str(BIN / "recs"), "serve", "--host", "127.0.0.1", "--port", str(endpoint_port)],
            env=env, stdout=open(endpoint_log, "wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(endpoint)
        wait_for(f"http://127.0.0.1:{endpoint_port}/ping", endpoint, 240, endpoint_log)
        api_env = {**env, "RECS_ENDPOINT_URL": f"http://127.0.0.1:{endpoint_port}"}
        api = subprocess.Popen(
            [str(BIN / "chalice"), "local", "--no-autoreload", "--host", "127.0.0.1",
             "--port", str(api_port)],
            cwd=API_DIR, env=api_env, stdout=open(api_log, "wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(api)
        base = f"http://127.0.0.1:{api_port}"
        wait_for(base + "/health", api, 60, api_log)
        with urllib.request.urlopen(base + ROUTES[0][2], timeout=30) as response:
            first = json.loads(response.read())
        if first["fallback"]:
            raise SystemExit(f"the endpoint did not answer recommendations: {first}")
        urllib.request.urlopen(base + "/movies/50/similar", timeout=60).read()  # build the index

        script_path = scratch / "post.lua"
        script_path.write_text(POST_SCRIPT)
        figures: dict[str, object] = {"endpoint_model": model, "duration_s": duration}
        rows = []
        for label, method, path in ROUTES:
            for concurrency in (1, 8):
                command = ["wrk", "-t", str(min(2, concurrency)), "-c", str(concurrency),
                           "-d", f"{duration}s", "--timeout", "5s", "--latency"]  # fmt: skip
                if method == "POST":
                    command += ["-s", str(script_path)]
                print("+", " ".join(command), base + path, flush=True)
                output = subprocess.run(
                    [*command, base + path], capture_output=True, text=True, check=True,
                    timeout=duration + 30,
                ).stdout  # fmt: skip
                result = parse_wrk(output)
                figures[f"{method} {path} c={concurrency}"] = result
                rows.append([label, f"{method} {path}", concurrency, result["rps"],
                             result["p50_ms"], result["p99_ms"],
                             int(result["non_2xx"] + result["socket_errors"])])  # fmt: skip
        table = markdown_table(
            ["route", "request", "concurrency", "req/s", "p50 ms", "p99 ms", "errors"], rows
        )
        markdown = (
            "## API (chalice local, loopback, wrk)\n\n"
            f"`chalice local` over the SQLite store (MovieLens-100K) and `recs serve` "
            f"({model}); {duration} s per run, 2 wrk threads at concurrency 8.\n\n{table}\n"
        )
        path = write_result("api", figures, markdown)
        print(markdown)
        print(f"wrote {path}")
    finally:
        stop(processes)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
