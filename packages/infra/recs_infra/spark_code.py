"""The Spark Process step's code, built at synth from the repo: spark-submit's application
(``process_spark.py``) and ``recs_ml.zip`` for ``--py-files``.

The SageMaker Spark image runs the job with its own Python and packages; nothing is pip
installed on the cluster. So the zip carries ``recs_ml`` and the pure-Python packages the job
imports that the image lacks (:data:`SHIPPED_PACKAGES`), and the job may import nothing else
but the standard library and :data:`IMAGE_PACKAGES` (checked by running the job from the zip
in packages/infra/tests/test_spark_code.py).

Both files are written byte for byte the same from the same sources (fixed timestamps and
order), so the CDK asset only changes, and is only uploaded again, when the code does.
"""

from __future__ import annotations

import importlib.util
import zipfile
from collections.abc import Iterator
from pathlib import Path

from recs_infra.paths import ML_SRC_DIR, SPARK_ENTRY_SCRIPT, require_file
from recs_ml.pipeline.sagemaker import SPARK_ENTRY, SPARK_PY_FILES

# What `sagemaker-spark-processing:3.5-cpu-py312` ships to the job's Python, as import names:
# the packages of aws/sagemaker-spark-container smsparkbuild/py312/Pipfile.runtime.lock
# (installed by spark/processing/3.5/py3/docker/py312/Dockerfile.cpu, commit 7d90eeb, April
# 2026) and Spark's own pyspark and py4j. Among them numpy 1.26.4, pandas, pydantic 2.11,
# boto3; not among them: pyarrow, pydantic-settings, python-dotenv, tensorflow.
IMAGE_PACKAGES = frozenset(
    {
        "annotated_doc",
        "annotated_types",
        "anyio",
        "authlib",
        "boto3",
        "botocore",
        "certifi",
        "cffi",
        "charset_normalizer",
        "click",
        "cryptography",
        "dateutil",
        "docker",
        "dparse",
        "filelock",
        "h11",
        "httpcore",
        "httpx",
        "idna",
        "importlib_metadata",
        "jinja2",
        "jmespath",
        "joblib",
        "joserfc",
        "markdown_it",
        "markupsafe",
        "marshmallow",
        "mdurl",
        "nltk",
        "numpy",
        "packaging",
        "pandas",
        "pip",
        "psutil",
        "py4j",
        "pyasn1",
        "pycparser",
        "pydantic",
        "pydantic_core",
        "pygments",
        "pyspark",
        "regex",
        "requests",
        "rich",
        "rsa",
        "ruamel",
        "s3transfer",
        "safety",
        "safety_schemas",
        "shellingham",
        "six",
        "smspark",
        "tenacity",
        "tomlkit",
        "tqdm",
        "typer",
        "typing_extensions",
        "typing_inspection",
        "urllib3",
        "waitress",
        "watchdog",
        "yaml",
        "zipp",
    }
)
# Pure-Python packages recs_ml imports on the Spark path that the image lacks: shipped in the
# zip (recs_ml.settings needs pydantic-settings, which needs python-dotenv).
SHIPPED_PACKAGES = ("pydantic_settings", "dotenv")
# A compiled extension would not load on the image's platform and Python: none may be shipped.
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
# Documentation inside a package directory stays out of the zip.
DOCUMENT_SUFFIXES = (".md", ".rst", ".txt")
# zipfile's earliest timestamp: every entry gets it, so the zip depends on contents only.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class SparkCodeError(RuntimeError):
    """A package meant for the zip is missing or is not pure Python."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SparkCodeError(
            f"{name} is not installed; the Spark job's zip ships it (uv sync --all-packages)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _package_files(directory: Path) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file) for a package directory, sorted, without caches or docs."""
    for path in sorted(directory.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        if path.suffix in COMPILED_SUFFIXES or ".cpython-" in path.name:
            raise SparkCodeError(
                f"{path} is a compiled extension: the Spark job's zip takes pure-Python "
                "packages only"
            )
        if path.suffix in DOCUMENT_SUFFIXES:
            continue
        yield f"{directory.name}/{path.relative_to(directory).as_posix()}", path


def package_zip(target: Path) -> list[str]:
    """Write ``recs_ml`` and :data:`SHIPPED_PACKAGES` to the zip ``target``; its entry names."""
    sources = [require_file(ML_SRC_DIR / "__init__.py", "recs_ml").parent]
    sources += [_package_dir(name) for name in SHIPPED_PACKAGES]
    names: list[str] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for directory in sources:
            for name, path in _package_files(directory):
                info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
                names.append(name)
    return names


def build_spark_code(directory: Path) -> Path:
    """``directory`` with the step's application and ``--py-files`` zip, named as the
    pipeline definition expects them under ``s3://<bucket>/pipeline/code/spark/``."""
    directory.mkdir(parents=True, exist_ok=True)
    entry = require_file(SPARK_ENTRY_SCRIPT, "the Spark step's application")
    (directory / SPARK_ENTRY).write_bytes(entry.read_bytes())
    package_zip(directory / SPARK_PY_FILES)
    return directory
