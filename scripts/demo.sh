#!/usr/bin/env bash
# Quick-start command 1: the whole local stack on the embedded MovieLens-100K.
# data -> pipeline run -> register -> approve -> endpoint -> API -> web, then the URLs.
# A second run reuses the approved model. Ctrl-C stops every process started here.
#
# Settings (environment): RECS_HOME, RECS_ENDPOINT_PORT (8080), RECS_API_PORT (8000),
# RECS_WEB_PORT (4173), RECS_DEMO_PARAMS (extra `--param` pairs for the pipeline, e.g.
# "epochs=2 ranker=off"), RECS_DEMO_RETRAIN=1 (train even when an approved model is current).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

ENDPOINT_PORT="${RECS_ENDPOINT_PORT:-8080}"
API_PORT="${RECS_API_PORT:-8000}"
WEB_PORT="${RECS_WEB_PORT:-4173}"
export RECS_ENDPOINT_PORT="$ENDPOINT_PORT"
export RECS_ENDPOINT_URL="http://127.0.0.1:$ENDPOINT_PORT"
# CORS compares exact origins: the page is served from 127.0.0.1, never "localhost".
export RECS_WEB_ORIGIN="http://127.0.0.1:$WEB_PORT"
export VITE_API_URL="http://127.0.0.1:$API_PORT"
LOGS="$RECS_HOME/logs"
WEB_DIST="$RECS_HOME/web/dist"
recs=(uv run --frozen --no-sync recs)

for name in ENDPOINT_PORT API_PORT WEB_PORT; do
  if ! [[ "${!name}" =~ ^[0-9]+$ ]] || [ "${!name}" -lt 1 ] || [ "${!name}" -gt 65535 ]; then
    echo "error: RECS_$name=${!name} is not a TCP port (1-65535)" >&2
    exit 2
  fi
done

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for port in "$ENDPOINT_PORT" "$API_PORT" "$WEB_PORT"; do
  if ! port_free "$port"; then
    echo "error: port $port is already in use; stop what holds it or set" \
      "RECS_ENDPOINT_PORT/RECS_API_PORT/RECS_WEB_PORT" >&2
    exit 1
  fi
done

bash scripts/setup.sh
mkdir -p "$LOGS"

pids=()
stop_all() {
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    step "stopping ${#pids[@]} process group(s)"
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    echo "stopped; ports $ENDPOINT_PORT, $API_PORT and $WEB_PORT are free"
  fi
}
trap stop_all EXIT
trap 'stop_all; exit 0' INT
trap 'stop_all; exit 143' TERM

# start NAME CMD...: run CMD in its own process group, logging to $LOGS/NAME.log.
declare -A pid_of
start() {
  local name=$1; shift
  printf '+ %s  (log: %s)\n' "$*" "$LOGS/$name.log"
  setsid "$@" >"$LOGS/$name.log" 2>&1 &
  pids+=("$!")
  pid_of[$name]=$!
}

# wait_for NAME URL [ANY]: poll until URL answers 2xx (any HTTP status with ANY), or fail
# with the end of NAME's log.
wait_for() {
  local name=$1 url=$2 any=${3:-} pid=${pid_of[$1]} code
  for _ in $(seq 1 1200); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" 2>/dev/null || true)
    if [[ "$code" == 2* ]] || { [ -n "$any" ] && [ "$code" != "000" ]; }; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "error: $name did not answer at $url; last lines of $LOGS/$name.log:" >&2
  tail -n 30 "$LOGS/$name.log" >&2
  exit 1
}

step "model: is an approved version current for this data and code?"
# Prints "<current> <latest>": the approved version trained on this data with this code (or
# "-"), and the latest approved version of any age (or "-").
answer=$(uv run --frozen --no-sync python - <<'PY'
import json

from recs_ml.pipeline.runner import code_version, read_run, resolve_data
from recs_ml.ops.registry import Registry

package = Registry().latest_approved()
current = "-"
if package is not None:
    try:
        run = read_run(package.run_id) if package.run_id else None
    except (FileNotFoundError, json.JSONDecodeError):
        run = None
    data = ((run or {}).get("steps", {}).get("process", {}).get("inputs") or {}).get("data")
    if run is None and package.run_id is None:
        current = package.version  # registered by hand from an artifact: the person chose it
    elif run and run.get("code_version") == code_version() and data == resolve_data("ml-100k")[1]:
        current = package.version
print(current, package.version if package else "-")
PY
)
read -r current latest <<<"$answer"
approve=""
if [ "$current" != "-" ] && [ "${RECS_DEMO_RETRAIN:-0}" != "1" ]; then
  echo "approved version $current was trained on this data with this code; skipping the pipeline"
else
  step "pipeline: process -> train -> evaluate -> condition -> register"
  params=()
  for pair in ${RECS_DEMO_PARAMS:-}; do params+=(--param "$pair"); done
  run "${recs[@]}" pipeline run "${params[@]}" | tee "$LOGS/pipeline.log"
  approve=$(sed -n 's/.*registered [^ ]*\/\([0-9]*\) as PendingManualApproval.*/\1/p' \
    "$LOGS/pipeline.log" | tail -n 1)
  if [ -z "$approve" ] && [ "$latest" != "-" ]; then
    echo "warning: the pipeline registered no model (see the condition line above); serving" \
      "the earlier approved version $latest" >&2
  elif [ -z "$approve" ]; then
    echo "error: the pipeline registered no model (see the condition line above) and no" \
      "version was approved before; nothing to serve. Lower the bar with" \
      "RECS_DEMO_PARAMS='baseline=0' or change the training parameters." >&2
    exit 1
  fi
fi

# The three servers start together: the endpoint's model load overlaps the API and web start.
step "endpoint (recs serve) on :$ENDPOINT_PORT"
start endpoint "${recs[@]}" serve --host 127.0.0.1 --port "$ENDPOINT_PORT"

step "API (Chalice local) on :$API_PORT"
start api bash -c "cd packages/api && exec uv run --frozen --no-sync chalice local \
  --host 127.0.0.1 --port $API_PORT --no-autoreload"

step "web (vite build + preview) on :$WEB_PORT"
stamp="$WEB_DIST/.api-url"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$VITE_API_URL" ] \
    || [ -n "$(find packages/web/src packages/web/public packages/web/index.html \
                packages/web/package-lock.json packages/web/vite.config.ts \
                -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  (cd packages/web && run npx vite build --logLevel warn --outDir "$WEB_DIST" --emptyOutDir)
  echo "$VITE_API_URL" >"$stamp"
else
  echo "$WEB_DIST is up to date for $VITE_API_URL"
fi
start web bash -c "cd packages/web && exec npx vite preview --host 127.0.0.1 \
  --port $WEB_PORT --strictPort --outDir '$WEB_DIST'"

if [ -n "$approve" ]; then
  wait_for endpoint "$RECS_ENDPOINT_URL/ping" any
  step "approve version $approve: the state-change event makes the deployer load it"
  run "${recs[@]}" models approve "$approve" --require-deploy \
    --description "approved by scripts/demo.sh"
fi
step "waiting for the endpoint, the API and the web page to answer"
wait_for endpoint "$RECS_ENDPOINT_URL/ping"
wait_for api "http://127.0.0.1:$API_PORT/health"
wait_for web "http://127.0.0.1:$WEB_PORT/"

cat <<MSG

  Recommendations are up:
    web page   http://127.0.0.1:$WEB_PORT/
    API        http://127.0.0.1:$API_PORT/health
    endpoint   $RECS_ENDPOINT_URL/ping
  Logs in $LOGS. Press Ctrl-C to stop everything.

MSG
# Any service that exits ends the demo (the EXIT trap stops the others).
status=0
wait -n "${pids[@]}" || status=$?
echo "error: a service stopped (exit $status); see the logs in $LOGS" >&2
exit 1
