"""API latency and throughput under wrk: p50/p99 and requests per second at concurrency 1 and 8.

Starts the local stack on loopback in a scratch RECS_HOME: the store seeded from the embedded
MovieLens-100K, `recs serve` on the newest approved registry version (the real model when
RECS_HOME's registry has one, else tests/tiny_model.py's stand-in over the full catalog), and
`chalice local`. Every wrk run is bounded by its duration; needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from common import argument_parser, markdown_table, publish
from harness import API, BIN, add_dataset, default_home, scratch_stack, seed_store

from recs_contracts.registry import APPROVED, RegistryView, group_name

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


def approved_version(registry: Path) -> int | None:
    latest = RegistryView(registry).latest(group_name(), APPROVED)
    return latest.version if latest else None


def prepare_home(home: Path, env: Mapping[str, str]) -> str:
    """Seed ``home``'s store from the fetched MovieLens-100K and give it a model to serve: the
    newest approved version of RECS_HOME's registry, else the stand-in. Says which."""
    real_home = default_home()
    add_dataset(home, real_home, link=True)
    seed_store(env, home / "logs" / "seed.log")
    version = approved_version(real_home / "registry.db")
    if version is not None:
        # The registry's artifact paths are absolute, so a copy serves the real model.
        shutil.copy(real_home / "registry.db", home / "registry.db")
        return f"registry version {version}"
    script = API / "tests" / "tiny_model.py"
    subprocess.run([str(BIN / "python"), str(script), str(home / "artifact"), "1682"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    return "stand-in (tests/tiny_model.py, 1682 items)"


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
    # wrk creates thousands of users from one address: lift the per-client cap, which would
    # otherwise turn the write benchmark into a measure of 429s.
    lifted = {"RECS_MAX_USERS_PER_CLIENT_PER_HOUR": "1000000"}
    with scratch_stack("recs-bench-api-", extra_env=lifted) as stack:
        scratch = stack.home
        model = prepare_home(scratch, stack.env)
        stack.start()
        base = stack.api_url
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
        publish("api", figures, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
