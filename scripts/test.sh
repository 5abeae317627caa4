#!/usr/bin/env bash
# Every test: lint and types, each package's tests, the web tests, then the cross-package
# suite under tests/ last, so pytest's summary line closes the output.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

bash scripts/setup.sh
if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "error: no Chromium at CHROMIUM_PATH=$CHROMIUM_PATH for the browser tests (see the" \
    "setup warning above for how to install one)" >&2
  exit 1
fi

step "lint: ruff check, ruff format --check, mypy, actionlint"
run uv run --frozen --no-sync ruff check .
run uv run --frozen --no-sync ruff format --check .
run uv run --frozen --no-sync mypy packages/contracts/src packages/ml/src packages/api/chalicelib packages/infra/recs_infra
run uv run --frozen --no-sync actionlint
run bash scripts/audit.sh

step "web: eslint, tsc, vitest"
(cd packages/web && run npm run lint && run npm run typecheck && run npm test)

# pytest exits 5 when a directory holds no tests yet; that is not a failure of the suite.
pytest_in() {
  local status=0
  run uv run --frozen --no-sync pytest "$@" || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then exit "$status"; fi
}

for package in contracts ml api infra; do
  step "packages/$package tests"
  pytest_in "packages/$package/tests"
done

step "cross-package tests (tests/)"
pytest_in tests
