#!/usr/bin/env bash
# Checks that an exported model.tar.gz answers the same under the TensorFlow of the SageMaker
# TF Serving image (recs_ml.pipeline.sagemaker.SERVING_TF_VERSION) as under ours.
#   scripts/serving_compat.sh [MODEL_TAR_GZ]    default: the latest approved version's artifact
#   scripts/serving_compat.sh --indexed [ITEMS] an artifact exported over a synthetic catalog of
#                                               ITEMS (default 120000) items: its models search
#                                               the TensorFlow-ops IVF index (recs_ml.serving.ann)
# Env: RECS_TFS_VERSION (default: the image's version, e.g. 2.20),
#      RECS_COMPAT_PYTHON (a Python with that TensorFlow; default: a venv made under
#      $RECS_HOME/venvs/ with tensorflow-cpu from PyPI, about 250 MB on first use).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

ours=".venv/bin/python"
[ -x "$ours" ] || { echo "serving_compat.sh: run scripts/setup.sh first" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

artifact="${1:-}"
if [ "$artifact" = "--indexed" ]; then
  step "an artifact with an IVF index (${2:-120000} synthetic items)"
  run "$ours" scripts/serving_compat.py indexed "$work/indexed.tar.gz" "${2:-120000}"
  artifact="$work/indexed.tar.gz"
elif [ -z "$artifact" ]; then
  artifact="$("$ours" -c '
from recs_ml.ops.registry import Registry
package = Registry().latest_approved()
print(package.tarball if package else "")')"
  [ -n "$artifact" ] || {
    echo "serving_compat.sh: no approved model; pass a model.tar.gz or run scripts/demo.sh" >&2
    exit 2
  }
fi
[ -f "$artifact" ] || { echo "serving_compat.sh: $artifact: no such file" >&2; exit 2; }

version="${RECS_TFS_VERSION:-$("$ours" -c '
from recs_ml.pipeline.sagemaker import SERVING_TF_VERSION
print(SERVING_TF_VERSION)')}"

theirs="${RECS_COMPAT_PYTHON:-}"
if [ -z "$theirs" ]; then
  venv="$RECS_HOME/venvs/tensorflow-$version"
  theirs="$venv/bin/python"
  if ! "$theirs" -c "import tensorflow" >/dev/null 2>&1; then
    step "TensorFlow $version for the check ($venv)"
    # TensorFlow $version has wheels for Python 3.9-3.12; this project's 3.11 is one of them.
    run uv venv --quiet --python 3.11 "$venv"
    run env VIRTUAL_ENV="$venv" uv pip install --quiet "tensorflow-cpu==$version.*"
  fi
fi

mkdir "$work/artifact"
tar -xzf "$artifact" -C "$work/artifact"

step "answers under this project's TensorFlow ($artifact)"
run "$ours" scripts/serving_compat.py answer "$work/artifact" "$work/ours.json"
step "answers under TensorFlow $version (the SageMaker TF Serving image's)"
run "$theirs" scripts/serving_compat.py answer "$work/artifact" "$work/theirs.json"
step "compare"
"$ours" scripts/serving_compat.py compare "$work/ours.json" "$work/theirs.json"
