#!/usr/bin/env bash
# Runs each benchmark that exists, in a fixed order, past failures, then regenerates
# benchmarks/RESULTS.md from benchmarks/results/*.json.
#   scripts/bench.sh [--quick] [NAME ...]     NAME: quality newusers pipeline endpoint api ui scale
#                                             datasizes spark multiworker demo
# Env: RECS_BENCH_DIR (where results/ and RESULTS.md go; default benchmarks/),
#      RECS_BENCH_TIMEOUT (seconds per benchmark; default 600 with --quick, 3600 without).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

order=(quality newusers pipeline endpoint api ui scale datasizes spark multiworker demo)
quick=()
names=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench.sh: unknown option $arg (expected --quick or benchmark names)" >&2; exit 2 ;;
    *)
      if [[ ! " ${order[*]} " == *" $arg "* ]]; then
        echo "bench.sh: unknown benchmark '$arg' (expected one of: ${order[*]})" >&2
        exit 2
      fi
      names+=("$arg") ;;
  esac
done
[ "${#names[@]}" -gt 0 ] || names=("${order[@]}")

# Benchmark scripts live in benchmarks/; the tests point RECS_BENCH_SCRIPTS at stand-ins.
scripts_dir="${RECS_BENCH_SCRIPTS:-benchmarks}"
export RECS_BENCH_DIR="${RECS_BENCH_DIR:-$PWD/benchmarks}"
limit="${RECS_BENCH_TIMEOUT:-$([ "${#quick[@]}" -gt 0 ] && echo 600 || echo 3600)}"
log_dir="$RECS_HOME/logs/bench"
mkdir -p "$log_dir" "$RECS_BENCH_DIR/results"
since="$(date +%s)"
stamp="$(mktemp)"  # a result file not newer than this was not written by this run
trap 'rm -f "$stamp"' EXIT

# The API benchmark drives wrk (Debian's package), installed here when it is missing.
if [ "$scripts_dir" = benchmarks ] && [[ " ${names[*]} " == *" api "* ]] \
  && ! command -v wrk >/dev/null 2>&1; then
  step "wrk (the API benchmark's load generator)"
  apt_install wrk || echo "bench.sh: could not install wrk; the api benchmark will fail" >&2
fi

statuses=()
failed=()
for name in "${names[@]}"; do
  script="$scripts_dir/$name.py"
  if [ ! -f "$script" ]; then
    step "benchmark $name: $script does not exist, skipped"
    statuses+=(--status "$name=missing")
    continue
  fi
  step "benchmark $name (log: $log_dir/$name.log, limit ${limit}s)"
  set +e
  run timeout --kill-after=30 "$limit" \
    uv run --frozen --no-sync python "$script" "${quick[@]}" 2>&1 | tee "$log_dir/$name.log"
  code="${PIPESTATUS[0]}"
  set -e
  statuses+=(--status "$name=$code")
  if [ "$code" -ne 0 ]; then
    failed+=("$name (exit $code)")
  elif [ ! "$RECS_BENCH_DIR/results/$name.json" -nt "$stamp" ]; then
    failed+=("$name (wrote no results/$name.json)")
  fi
done

step "report: $RECS_BENCH_DIR/RESULTS.md"
run uv run --frozen --no-sync python benchmarks/report.py \
  --since "$since" --log-dir "$log_dir" "${statuses[@]}"

if [ "${#failed[@]}" -gt 0 ]; then
  echo "bench.sh: failed: ${failed[*]} (recorded in RESULTS.md)" >&2
  exit 1
fi
step "bench done"
