#!/usr/bin/env bash
# Create and seed the local ratings store RECS_HOME/store.db from the embedded MovieLens-100K.
# Idempotent: an already seeded store is only counted, never rewritten.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/lib.sh

run uv run --frozen --no-sync python -m chalicelib.seed
