"""``recs pipeline run``: the pipeline on one machine, each step in its own process.

Paths follow SageMaker's container conventions, mapped into ``RECS_HOME/runs/<run_id>/<step>/``.
The run record (``run.json``) keeps each step's status, timing, cache key and log. A step whose
cache key (its inputs' checksums + parameters + code version) was seen before reuses the
cached outputs instead of running. Registration is the last step, so a failure anywhere
leaves the registry untouched.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

from recs_ml.data.embedded import EMBEDDED_NAME, embedded_dir, embedded_is_ready
from recs_ml.pipeline import DEFAULT_BASELINE, DEFAULT_METRIC
from recs_ml.pipeline.cache import tree_checksum
from recs_ml.pipeline.runs import Echo, PipelineFailed, Run
from recs_ml.pipeline.steps.process import ENGINES as PROCESS_ENGINES
from recs_ml.pipeline.table import CONDITION_REPORT, PIPELINE, STEP_MODULES, Step, condition_holds
from recs_ml.settings import get_settings

PIPELINE_PARAMS = ("baseline", "metric", "engine")


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


def default_commands() -> dict[str, list[str]]:
    return {step: [sys.executable, "-m", module] for step, module in STEP_MODULES.items()}


def _check_commands(commands: dict[str, list[str]]) -> None:
    for step, command in commands.items():
        if command[1:2] == ["-m"] and importlib.util.find_spec(command[2]) is None:
            raise PipelineFailed(f"step {step}: module {command[2]} is not installed")


Extras = tuple[list[str], dict[str, str], Any, dict[str, str]]


def _step_ports(
    step: Step, data: tuple[str, str], paths: dict[str, Path]
) -> tuple[list[str], dict[str, str], dict[str, Path]]:
    """The table's arguments of ``step`` with local paths, its input checksums, its outputs."""
    args: list[str] = []
    inputs: dict[str, str] = {}
    for port in step.inputs:
        source = paths[port.source] if port.source else None
        args += [port.flag, str(source) if source else data[0]]
        inputs[port.name] = tree_checksum(source) if source else data[1]
    outputs = {output.name: paths[f"{step.name}.{output.name}"] for output in step.outputs}
    for output in step.outputs:
        args += [output.flag, str(outputs[output.name])]
    return args, inputs, outputs


def _local_extras(
    run: Run, paths: dict[str, Path], engine: str, store: tuple[Path | None, str], hps: dict
) -> dict[str, Extras]:
    """What the runner adds to the table per step: arguments, input checksums, the
    parameters of its cache key, and the environment SageMaker would set."""
    store_path, store_checksum = store
    return {
        "process": (
            ["--engine", engine] + (["--store", str(store_path)] if store_path else []),
            {"store": store_checksum},
            {"engine": engine},
            {},
        ),
        "train": (
            [arg for key, value in sorted(hps.items()) for arg in ("--hp", f"{key}={value}")],
            {},
            hps,
            {
                "SM_CHANNEL_TRAIN": str(paths["process.output"]),
                "SM_MODEL_DIR": str(paths["train.model"]),
                "SM_OUTPUT_DATA_DIR": str(run.step_dir("train") / "output"),
                "SM_HPS": json.dumps(hps),
            },
        ),
        "evaluate": ([], {}, {}, {}),
    }


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
    settings = {"data": data_arg, "store": str(store_path) if store_path else None}
    settings.update(baseline=baseline, metric=metric, engine=engine)
    run = Run({**settings, "hyperparameters": hyperparameters}, commands, use_cache, echo)
    paths = {
        f"{step.name}.{output.name}": run.step_dir(step.name) / output.name
        for step in PIPELINE
        for output in step.outputs
    }
    extras = _local_extras(run, paths, engine, (store_path, store_checksum), hyperparameters)
    for step in PIPELINE:
        if step.module is None:
            continue
        args, inputs, outputs = _step_ports(step, (data_arg, data_checksum), paths)
        more_args, more_inputs, cache_params, env = extras[step.name]
        run.run_step(
            step.name, args + more_args, {**inputs, **more_inputs}, cache_params, outputs, env
        )
    report_step, report_output, report_file = CONDITION_REPORT
    evaluation, reason = _condition(
        run, paths[f"{report_step}.{report_output}"] / report_file, baseline, metric
    )
    if evaluation is not None:
        _register(run, paths["train.model"], evaluation, reason, group)
    return run.record


def _condition(
    run: Run, report: Path, baseline: str, metric: str
) -> tuple[dict[str, Any] | None, str]:
    """The evaluation report and the condition's reason; no report when the model does not
    beat the baseline (the run then ends without registering)."""
    started = time.perf_counter()
    try:
        evaluation = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        run.mark("condition", "Failed", error=str(exc))
        run.finish("Failed", f"cannot read {report}")
        raise PipelineFailed(f"condition: cannot read {report} ({exc})") from None
    try:
        passed, _, _, reason = condition_holds(evaluation, baseline, metric)
    except ValueError as exc:
        run.mark("condition", "Failed", error=str(exc))
        run.finish("Failed", str(exc))
        raise PipelineFailed(str(exc)) from None
    seconds = round(time.perf_counter() - started, 3)
    run.mark("condition", "Succeeded", outcome=passed, reason=reason, seconds=seconds)
    run.echo(f"[condition] {reason}")
    if passed:
        return evaluation, reason
    run.mark("register", "Skipped", reason=reason)
    run.finish("Succeeded", f"not registered: {reason}")
    return None, reason


def _register(
    run: Run, model_dir: Path, evaluation: dict[str, Any], reason: str, group: str | None
) -> None:
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
