"""The Spark Process step's code as CDK uploads it: reproducible, pure Python, and importing
nothing the SageMaker Spark image lacks (the job is run from the zip to find out)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

from recs_infra.paths import ML_SRC_DIR, SPARK_ENTRY_SCRIPT
from recs_infra.spark_code import (
    IMAGE_PACKAGES,
    SHIPPED_PACKAGES,
    SparkCodeError,
    _package_files,
    build_spark_code,
)
from recs_ml.pipeline.sagemaker import SPARK_ENTRY, SPARK_PY_FILES, SPARK_PY_VERSION, SPARK_VERSION

# Runs the job as spark-submit would on the image: recs_ml (and the shipped packages) from the
# zip only, and any other import outside the standard library and the image's packages fails.
GUARDED_RUN = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery, json, os, runpy, sys, sysconfig

    zip_path, entry, allowed_path, report = sys.argv[1:5]
    allowed = set(json.loads(open(allowed_path).read()))
    # The interpreter's own directories (private modules such as _sysconfigdata_* included).
    interpreter = [sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib")]
    interpreter.append(os.path.join(interpreter[1], "lib-dynload"))
    before = set(sys.modules)
    refused = []

    class ImageOnly(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if top in sys.stdlib_module_names or top in allowed:
                return None
            if path is None and importlib.machinery.PathFinder.find_spec(name, interpreter):
                return None
            refused.append(name)
            raise ModuleNotFoundError(f"No module named {name!r} in the Spark image", name=name)

    sys.meta_path.insert(0, ImageOnly())
    sys.path.insert(0, zip_path)
    sys.argv = [entry, *sys.argv[5:]]
    code = 0
    try:
        runpy.run_path(entry, run_name="__main__")
    except SystemExit as done:
        code = done.code or 0
    finally:
        loaded = {
            name.partition(".")[0]: getattr(sys.modules[name], "__file__", None) or ""
            for name in set(sys.modules) - before
            if name.partition(".")[0] not in sys.stdlib_module_names
            and not (getattr(sys.modules[name], "__file__", None) or "").startswith(
                tuple(interpreter)
            )
        }
        with open(report, "w") as handle:
            json.dump({"loaded": loaded, "refused": refused}, handle)
    sys.exit(code)
    """
)


def test_package_list_describes_the_image_the_pipeline_runs():
    # IMAGE_PACKAGES was read from the py312 image of Spark 3.5: another image, another list.
    assert (SPARK_VERSION, SPARK_PY_VERSION) == ("3.5", "py312")
    assert {"pyspark", "numpy", "pydantic", "boto3"} <= IMAGE_PACKAGES
    assert not {"pyarrow", "tensorflow", *SHIPPED_PACKAGES} & IMAGE_PACKAGES


def test_code_is_the_entry_script_and_a_reproducible_zip_of_pure_python(tmp_path):
    first = build_spark_code(tmp_path / "first")
    second = build_spark_code(tmp_path / "second")
    assert sorted(path.name for path in first.iterdir()) == sorted([SPARK_ENTRY, SPARK_PY_FILES])
    assert (first / SPARK_ENTRY).read_bytes() == SPARK_ENTRY_SCRIPT.read_bytes()
    # Same sources, same bytes: the CDK asset hash changes only with the code.
    assert (first / SPARK_PY_FILES).read_bytes() == (second / SPARK_PY_FILES).read_bytes()
    names = zipfile.ZipFile(first / SPARK_PY_FILES).namelist()
    sources = sorted(
        f"recs_ml/{path.relative_to(ML_SRC_DIR).as_posix()}"
        for path in ML_SRC_DIR.rglob("*.py")
        if "__pycache__" not in path.parts
    )
    assert sorted(name for name in names if name.startswith("recs_ml/")) == sources
    assert {name.partition("/")[0] for name in names} == {"recs_ml", *SHIPPED_PACKAGES}
    assert not [name for name in names if name.endswith((".so", ".pyd", ".pyc", ".md"))]


def test_a_compiled_extension_is_refused(tmp_path):
    package = tmp_path / "fast"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "core.cpython-312-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    with pytest.raises(SparkCodeError, match="compiled extension"):
        list(_package_files(package))


@pytest.mark.skipif(shutil.which("java") is None, reason="the Spark job needs a Java runtime")
def test_spark_job_imports_only_what_the_image_ships(tmp_path):
    pytest.importorskip("pyspark")
    code = build_spark_code(tmp_path / "code")
    data = tmp_path / "ratings.csv"
    data.write_text("user_id,item_id,rating,timestamp\n1,2,4,10\n1,3,5,11\n2,2,3,12\n")
    allowed = tmp_path / "allowed.json"
    allowed.write_text(json.dumps(sorted({*IMAGE_PACKAGES, *SHIPPED_PACKAGES, "recs_ml"})))
    report = tmp_path / "imports.json"
    arguments = ["--engine", "spark", "--no-store", "--data", str(data), "--output",
                 str(tmp_path / "out"), "--driver-memory", "512m"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", GUARDED_RUN, str(code / SPARK_PY_FILES), str(code / SPARK_ENTRY),
         str(allowed), str(report), *arguments],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "RECS_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    imports = json.loads(report.read_text())
    assert done.returncode == 0, f"refused {imports['refused']}:\n{done.stderr[-3000:]}"
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["engine"] == "spark" and summary["ratings"] == 3
    loaded = imports["loaded"]
    assert set(loaded) <= {*IMAGE_PACKAGES, *SHIPPED_PACKAGES, "recs_ml"}
    # recs_ml and the packages the image lacks came from the zip, not from this environment.
    zip_path = str(code / SPARK_PY_FILES)
    for name in ("recs_ml", *SHIPPED_PACKAGES):
        assert loaded[name].startswith(zip_path), (name, loaded[name])
    assert (tmp_path / "out" / "train" / "ratings.csv").is_dir()
