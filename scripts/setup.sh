#!/usr/bin/env bash
# Idempotent setup: Python workspace, web dependencies, Chromium, and the embedded dataset.
# A second run does no work beyond checking.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

step "uv"
if ! command -v uv >/dev/null 2>&1; then
  run python3 -m pip install --quiet uv
fi
uv --version

step "Python workspace (uv sync --frozen --all-packages)"
run uv sync --frozen --all-packages --quiet

step "web dependencies (npm ci in packages/web)"
stamp=packages/web/node_modules/.recs-npm-ci
if [ -f "$stamp" ] && [ "$stamp" -nt packages/web/package-lock.json ] \
    && [ "$stamp" -nt packages/web/package.json ]; then
  echo "node_modules up to date with package-lock.json"
else
  (cd packages/web && run npm ci --no-audit --no-fund)
  touch "$stamp"
fi

step "Chromium (Debian package, for the browser tests)"
if [ -x "$CHROMIUM_PATH" ]; then
  "$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH present"
elif ! apt_install chromium fonts-liberation; then
  echo "warning: the browser tests need Chromium at \$CHROMIUM_PATH ($CHROMIUM_PATH). Install" \
    "Chromium (Debian/Ubuntu: apt-get install --no-install-recommends chromium" \
    "fonts-liberation; Fedora: dnf install chromium; macOS: brew install --cask chromium)" \
    "or point CHROMIUM_PATH at an installed Chromium or Chrome. The demo runs without it." >&2
fi

step "Java runtime (for the Spark processing engine, pyspark 3.5)"
if command -v java >/dev/null 2>&1; then
  java -version 2>&1 | head -1
elif ! apt_install openjdk-17-jre-headless; then
  echo "warning: the Spark engine (--engine spark) needs Java 17. Install a headless JRE" \
    "(Debian/Ubuntu: apt-get install --no-install-recommends openjdk-17-jre-headless;" \
    "Fedora: dnf install java-17-openjdk-headless; macOS: brew install openjdk@17) or set" \
    "JAVA_HOME. Everything else runs without it." >&2
fi

step "embedded dataset (MovieLens-100K into \$RECS_HOME=$RECS_HOME)"
run uv run --frozen --no-sync recs data fetch

if [ -f scripts/setup.d/seed.sh ]; then
  step "local stores"
  run bash scripts/setup.d/seed.sh
fi
step "setup done"
