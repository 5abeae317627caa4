"""``recs pipeline run``: the pipeline on one machine, each step in its own process.

Paths follow SageMaker's container conventions, mapped into ``RECS_HOME/runs/<run_id>/<step>/``.
The run record (``run.json``) keeps each step's status, timing, cache key and log. A step whose
cache key (its inputs' checksums + parameters + code version) was seen before reuses the
cached outputs instead of running. Registration is the last step, so a failure anywhere
leaves the registry untouched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import recs_ml
from recs_ml.data.embedded import EMBEDDED_NAME, embedded_dir, embedded_is_ready, sha256_file
from recs_ml.pipeline import DEFAULT_BASELINE, DEFAULT_METRIC, STEP_MODULES, STEPS
from recs_ml.pipeline.steps.process import ENGINES as PROCESS_ENGINES
from recs_ml.settings import get_settings

PIPELINE_PARAMS = ("baseline", "metric", "engine")
RUN_RECORD = "run.json"
_COMPLETE = ".complete"

Echo = Callable[[str], None]


class PipelineFailed(RuntimeError):
    """A step failed; the message names it and quotes the end of its log."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tree_checksum(path: Path) -> str:
    """sha256 over a file, or over every file of a directory (relative names + contents)."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(item.relative_to(path).as_posix().encode())
        digest.update(sha256_file(item).encode())
    return digest.hexdigest()


def code_version() -> str:
    """sha256 of the recs_ml sources: any code change invalidates every cached step."""
    root = Path(recs_ml.__file__).parent
    digest = hashlib.sha256()
    for source in sorted(root.rglob("*.py")):
        digest.update(source.relative_to(root).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _cache_key(step: str, command: list[str], inputs: dict[str, str], params: Any) -> str:
    blob = json.dumps(
        {
            "step": step,
            "command": command[1:],
            "inputs": inputs,
            "params": params,
            "code": code_version(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _copy_tree(source: Path, target: Path) -> None:
    """Hard links where possible: cached outputs are never modified after they are written."""
    if target.exists():
        shutil.rmtree(target)

    def link_or_copy(src: str, dst: str) -> object:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        return dst

    shutil.copytree(source, target, copy_function=link_or_copy)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def resolve_data(data: str) -> tuple[str, str]:
    """The ``--data`` value for the process step and the checksum of what it names."""
    if data == EMBEDDED_NAME:
        if not embedded_is_ready():
            raise PipelineFailed(
                f"MovieLens-100K is not in {embedded_dir()} yet; run `recs data fetch` first"
            )
        return data, tree_checksum(embedded_dir())
    path = Path(data).expanduser().resolve()
    if not path.exists():
        raise PipelineFailed(f"--data {data}: no such file or directory")
    return str(path), tree_checksum(path)


def resolve_store(store: Path | None) -> tuple[Path | None, str]:
    """The ratings store to merge (explicit, or RECS_HOME/store.db when present)."""
    from recs_ml.data.store import StoreError, read_api_ratings

    path = Path(store) if store else get_settings().store_path
    if store is None and not path.is_file():
        return None, "none"
    try:
        return path.resolve(), read_api_ratings(path).checksum()
    except StoreError as exc:
        raise PipelineFailed(str(exc)) from None


class Run:
    """One pipeline run: its directory, record and steps."""

    def __init__(
        self,
        params: dict[str, Any],
        commands: dict[str, list[str]],
        use_cache: bool,
        echo: Echo | None,
    ) -> None:
        settings = get_settings()
        self.run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
        self.directory = settings.runs_dir / self.run_id
        self.cache_dir = settings.home / "cache"
        self.directory.mkdir(parents=True)
        self.commands = commands
        self.use_cache = use_cache
        self.echo = echo or (lambda line: None)
        self.started = time.perf_counter()
        self.record: dict[str, Any] = {
            "run_id": self.run_id,
            "status": "Executing",
            "started_at": _now(),
            "params": params,
            "code_version": code_version(),
            "steps": {name: {"status": "NotStarted"} for name in STEPS},
        }
        self.save()

    def save(self) -> None:
        self.record["seconds"] = round(time.perf_counter() - self.started, 3)
        _write_json(self.directory / RUN_RECORD, self.record)

    def step_dir(self, step: str) -> Path:
        return self.directory / step

    def run_step(
        self,
        step: str,
        args: list[str],
        inputs: dict[str, str],
        params: Any,
        outputs: dict[str, Path],
        env: dict[str, str] | None = None,
    ) -> None:
        """Run ``step`` as a process (or reuse its cached outputs) and record how it went."""
        command = self.commands[step]
        key = _cache_key(step, command, inputs, params)
        entry = self.record["steps"][step]
        entry.update(
            {"status": "Executing", "started_at": _now(), "cache_key": key, "inputs": inputs}
        )
        self.save()
        started = time.perf_counter()
        cached = self.cache_dir / step / key
        log = self.step_dir(step) / "log.txt"
        log.parent.mkdir(parents=True, exist_ok=True)
        if self.use_cache and (cached / _COMPLETE).is_file():
            for name, target in outputs.items():
                _copy_tree(cached / name, target)
            log.write_text(f"reused cached outputs of {cached}\n", encoding="utf-8")
            entry["cached"] = True
            self.echo(f"[{step}] cached ({key[:12]})")
        else:
            self._execute(step, [*command, *args], log, env or {})
            partial = self.cache_dir / step / (key + ".part")
            shutil.rmtree(partial, ignore_errors=True)
            for name, source in outputs.items():
                if not source.exists():
                    self._fail(step, f"step {step} succeeded but wrote no {source}", log)
                _copy_tree(source, partial / name)
            (partial / _COMPLETE).write_text(self.run_id, encoding="utf-8")
            shutil.rmtree(cached, ignore_errors=True)
            os.replace(partial, cached)
            entry["cached"] = False
        entry.update(
            {
                "status": "Succeeded",
                "seconds": round(time.perf_counter() - started, 3),
                "log": str(log),
                "outputs": {name: str(path) for name, path in outputs.items()},
                "output_checksums": {name: tree_checksum(p) for name, p in outputs.items()},
            }
        )
        self.save()

    def _execute(self, step: str, argv: list[str], log: Path, env: dict[str, str]) -> None:
        full_env = {
            **os.environ,
            "RECS_HOME": str(get_settings().home),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.echo(f"[{step}] {' '.join(argv)}")
        with open(log, "w", encoding="utf-8") as handle:
            handle.write("$ " + " ".join(argv) + "\n")
            handle.flush()
            process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=full_env,
                text=True,
                errors="replace",
            )
            assert process.stdout is not None
            for line in process.stdout:
                handle.write(line)
                self.echo(f"[{step}] {line.rstrip()}")
            code = process.wait()
        self.record["steps"][step]["exit_code"] = code
        if code != 0:
            self._fail(step, f"step {step} failed with exit code {code}", log)

    def _fail(self, step: str, message: str, log: Path) -> None:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        entry = self.record["steps"][step]
        entry.update({"status": "Failed", "log": str(log), "error": message})
        self.finish("Failed", f"{message}; registered models are untouched")
        raise PipelineFailed(
            f"{message} (run {self.run_id}); last lines of {log}:\n" + "\n".join(tail)
        )

    def mark(self, step: str, status: str, **fields: Any) -> None:
        self.record["steps"][step].update({"status": status, **fields})
        self.save()

    def finish(self, status: str, outcome: str) -> None:
        self.record.update({"status": status, "outcome": outcome, "finished_at": _now()})
        self.save()


def default_commands() -> dict[str, list[str]]:
    return {step: [sys.executable, "-m", module] for step, module in STEP_MODULES.items()}


def _check_commands(commands: dict[str, list[str]]) -> None:
    for step, command in commands.items():
        if command[1:2] == ["-m"] and importlib.util.find_spec(command[2]) is None:
            raise PipelineFailed(f"step {step}: module {command[2]} is not installed")


def evaluate_condition(
    evaluation: dict[str, Any], baseline: str, metric: str
) -> tuple[bool, float, float, str]:
    """Does the default model beat the baseline? ``baseline`` names a model of the report
    (mostpop, ease, ...) or is a fixed number. Returns (passed, model, baseline, reason)."""
    metrics = evaluation.get("metrics") or {}
    model = evaluation.get("default_model", "tfrs")
    try:
        reference, baseline_name = float(baseline), "threshold"
    except ValueError:
        reference, baseline_name = None, baseline
    for name in (model, baseline) if reference is None else (model,):
        if not isinstance((metrics.get(name) or {}).get(metric), int | float):
            raise PipelineFailed(
                f"condition: evaluation.json has no metrics.{name}.{metric}; models: "
                f"{sorted(metrics)}"
            )
    value = float(metrics[model][metric])
    if reference is None:
        reference = float(metrics[baseline][metric])
    passed = value > reference
    relation = ">" if passed else "<="
    reason = f"{model} {metric} {value:.4f} {relation} {baseline_name} {reference:.4f}"
    return passed, value, reference, reason


def run_pipeline(
    data: str = EMBEDDED_NAME,
    params: dict[str, str] | None = None,
    store: Path | None = None,
    *,
    use_cache: bool = True,
    echo: Echo | None = None,
    commands: dict[str, list[str]] | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """Run the whole pipeline; return the run record. Raises :class:`PipelineFailed`."""
    params = dict(params or {})
    baseline = params.pop("baseline", DEFAULT_BASELINE)
    metric = params.pop("metric", DEFAULT_METRIC)
    engine = params.pop("engine", "local")
    if engine not in PROCESS_ENGINES:
        raise PipelineFailed(f"engine={engine!r}: expected one of {', '.join(PROCESS_ENGINES)}")
    hyperparameters = params  # everything else goes to the training step
    commands = {**default_commands(), **(commands or {})}
    _check_commands(commands)
    data_arg, data_checksum = resolve_data(data)
    store_path, store_checksum = resolve_store(store)

    run = Run(
        {
            "data": data_arg,
            "store": str(store_path) if store_path else None,
            "baseline": baseline,
            "metric": metric,
            "engine": engine,
            "hyperparameters": hyperparameters,
        },
        commands,
        use_cache,
        echo,
    )
    processed = run.step_dir("process") / "output"
    model_dir = run.step_dir("train") / "model"
    evaluation_dir = run.step_dir("evaluate") / "evaluation"

    process_args = ["--data", data_arg, "--output", str(processed), "--engine", engine]
    if store_path:
        process_args += ["--store", str(store_path)]
    run.run_step(
        "process",
        process_args,
        {"data": data_checksum, "store": store_checksum},
        {"engine": engine},
        {"output": processed},
    )

    train_args = ["--data-dir", str(processed), "--model-dir", str(model_dir)]
    for key, value in sorted(hyperparameters.items()):
        train_args += ["--hp", f"{key}={value}"]
    run.run_step(
        "train",
        train_args,
        {"data": tree_checksum(processed)},
        hyperparameters,
        {"model": model_dir},
        env={
            "SM_CHANNEL_TRAIN": str(processed),
            "SM_MODEL_DIR": str(model_dir),
            "SM_OUTPUT_DATA_DIR": str(run.step_dir("train") / "output"),
            "SM_HPS": json.dumps(hyperparameters),
        },
    )

    run.run_step(
        "evaluate",
        [
            "--model-dir",
            str(model_dir),
            "--data-dir",
            str(processed),
            "--output",
            str(evaluation_dir),
        ],
        {"model": tree_checksum(model_dir), "data": tree_checksum(processed)},
        {},
        {"evaluation": evaluation_dir},
    )

    started = time.perf_counter()
    report = evaluation_dir / "evaluation.json"
    try:
        evaluation = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        run.mark("condition", "Failed", error=str(exc))
        run.finish("Failed", f"cannot read {report}")
        raise PipelineFailed(f"condition: cannot read {report} ({exc})") from None
    try:
        passed, _, _, reason = evaluate_condition(evaluation, baseline, metric)
    except PipelineFailed as exc:
        run.mark("condition", "Failed", error=str(exc))
        run.finish("Failed", str(exc))
        raise
    run.mark(
        "condition",
        "Succeeded",
        outcome=passed,
        reason=reason,
        seconds=round(time.perf_counter() - started, 3),
    )
    run.echo(f"[condition] {reason}")
    if not passed:
        run.mark("register", "Skipped", reason=reason)
        run.finish("Succeeded", f"not registered: {reason}")
        return run.record

    from recs_ml.ops.registry import Registry, RegistryError
    from recs_ml.serving.artifact import ArtifactError

    started = time.perf_counter()
    run.mark("register", "Executing")
    try:
        package = Registry().register(
            model_dir, group, evaluation=evaluation, run_id=run.run_id, description=reason
        )
    except (ArtifactError, RegistryError) as exc:
        run.mark("register", "Failed", error=str(exc))
        run.finish("Failed", f"register failed: {exc}")
        raise PipelineFailed(f"register: {exc}") from None
    run.mark(
        "register",
        "Succeeded",
        version=package.version,
        arn=package.arn,
        approval_status=package.status,
        seconds=round(time.perf_counter() - started, 3),
    )
    run.echo(f"[register] {package.group}/{package.version} {package.status}")
    run.finish(
        "Succeeded",
        f"registered {package.group}/{package.version} as {package.status} ({reason}); "
        f"approve with `recs models approve {package.version}`",
    )
    run.record["model_package"] = package.to_dict()
    run.save()
    return run.record


def list_runs() -> list[dict[str, Any]]:
    runs = []
    for record in sorted(get_settings().runs_dir.glob(f"*/{RUN_RECORD}")):
        try:
            runs.append(json.loads(record.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return runs


def read_run(run_id: str) -> dict[str, Any]:
    path = get_settings().runs_dir / run_id / RUN_RECORD
    if not path.is_file():
        raise FileNotFoundError(f"no pipeline run {run_id!r} in {get_settings().runs_dir}")
    return json.loads(path.read_text(encoding="utf-8"))
