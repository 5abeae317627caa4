"""Locations of the sibling packages whose code the CDK app ships."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
API_DIR = REPO_ROOT / "packages" / "api"
ML_SRC_DIR = REPO_ROOT / "packages" / "ml" / "src" / "recs_ml"
DEPLOYER_MODULE = ML_SRC_DIR / "ops" / "deployer.py"
# spark-submit's application for the Spark Process step (recs_ml goes beside it as a zip).
SPARK_ENTRY_SCRIPT = REPO_ROOT / "packages" / "ml" / "spark" / "process_spark.py"
AMPLIFY_BUILD_SPEC = REPO_ROOT / "amplify.yml"
WEB_DIR = REPO_ROOT / "packages" / "web"


def require_file(path: Path, what: str) -> Path:
    """Fail synthesis with a message naming the missing piece instead of a deep CDK error."""
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found at {path}; the CDK app ships it from the repo")
    return path
