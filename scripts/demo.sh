#!/usr/bin/env bash
# Quick-start command 1: the whole local stack on the embedded MovieLens-100K.
# Ctrl-C stops every process this script started and frees the ports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

API_PORT="${RECS_API_PORT:-8000}"
WEB_PORT="${RECS_WEB_PORT:-4173}"
export RECS_WEB_ORIGIN="${RECS_WEB_ORIGIN:-http://127.0.0.1:$WEB_PORT}"
export VITE_API_URL="${VITE_API_URL:-http://127.0.0.1:$API_PORT}"
LOGS="$RECS_HOME/logs"

bash scripts/setup.sh
mkdir -p "$LOGS"

pids=()
stop_all() {
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    step "stopping ${#pids[@]} process group(s)"
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  fi
}
trap stop_all EXIT
trap 'stop_all; exit 0' INT TERM

# start NAME CMD...: run CMD in its own process group, logging to $LOGS/NAME.log.
start() {
  local name=$1; shift
  printf '+ %s  (log: %s)\n' "$*" "$LOGS/$name.log"
  setsid "$@" >"$LOGS/$name.log" 2>&1 &
  pids+=("$!")
}

# wait_for NAME URL: poll until URL answers, or fail with the end of NAME's log.
wait_for() {
  local name=$1 url=$2 pid=${pids[-1]}
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "error: $name did not answer at $url; last lines of $LOGS/$name.log:" >&2
  tail -n 30 "$LOGS/$name.log" >&2
  exit 1
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for port in "$API_PORT" "$WEB_PORT"; do
  if ! port_free "$port"; then
    echo "error: port $port is already in use; stop what holds it or set RECS_API_PORT/RECS_WEB_PORT" >&2
    exit 1
  fi
done

step "API (Chalice local) on :$API_PORT"
start api bash -c "cd packages/api && exec uv run --frozen --no-sync chalice local \
  --host 127.0.0.1 --port $API_PORT --no-autoreload"
wait_for api "http://127.0.0.1:$API_PORT/health"

step "web (vite build + preview) on :$WEB_PORT"
if [ ! -f packages/web/dist/index.html ] \
    || [ -n "$(find packages/web/src packages/web/index.html packages/web/package.json \
                -newer packages/web/dist/index.html -print -quit)" ] \
    || [ "$(cat packages/web/dist/.api-url 2>/dev/null)" != "$VITE_API_URL" ]; then
  (cd packages/web && run npm run build --silent)
  echo "$VITE_API_URL" > packages/web/dist/.api-url
fi
start web bash -c "cd packages/web && exec npx vite preview --host 127.0.0.1 \
  --port $WEB_PORT --strictPort"
wait_for web "http://127.0.0.1:$WEB_PORT/"

cat <<MSG

  Recommendations are up:
    web page   http://127.0.0.1:$WEB_PORT/
    API        http://127.0.0.1:$API_PORT/health
  Logs in $LOGS. Press Ctrl-C to stop everything.

MSG
wait
