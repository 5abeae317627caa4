"""The pipeline's one table of steps, which ``recs pipeline run`` (``runner``) and the SageMaker
definition (``sagemaker``) are both generated from: each step's name on either side, the step
script it runs, its inputs and outputs (the script's argument, the local directory, the
SageMaker container path), and the condition that gates registration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from recs_ml.pipeline import PLAIN_METRICS, plain_metric_name


@dataclass(frozen=True)
class Output:
    """What a step writes: the local directory and run-record name, the script's argument,
    the container path, and the S3 prefix SageMaker uploads it under."""

    name: str
    flag: str
    container: str
    s3_name: str


@dataclass(frozen=True)
class Input:
    """What a step reads: an earlier step's output (``step.output``) or, with ``source``
    ``None``, the pipeline's data. ``container`` is where SageMaker mounts it (``file`` the
    file in that directory the script is given)."""

    name: str
    flag: str
    container: str
    source: str | None = None
    file: str = ""

    @property
    def argument(self) -> str:
        return f"{self.container}/{self.file}" if self.file else self.container


@dataclass(frozen=True)
class Step:
    name: str  # the local runner's name, in run.json and RECS_HOME/runs/<run>/<name>/
    title: str  # the SageMaker step's name
    module: str | None = None  # ``python -m`` entry point; None: the runner does it in-process
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = ()

    def output(self, name: str) -> Output:
        return next(output for output in self.outputs if output.name == name)


PROCESS = Step(
    "process",
    "Process",
    "recs_ml.pipeline.steps.process",
    inputs=(Input("data", "--data", "/opt/ml/processing/input/data"),),
    outputs=(Output("output", "--output", "/opt/ml/processing/output", s3_name="processed"),),
)
TRAIN = Step(
    "train",
    "Train",
    "recs_ml.pipeline.steps.train",
    # SageMaker hands the training program the channel and model directory as SM_* variables.
    inputs=(Input("data", "--data-dir", "/opt/ml/input/data/train", source="process.output"),),
    outputs=(Output("model", "--model-dir", "/opt/ml/model", s3_name="models"),),
)
EVALUATE = Step(
    "evaluate",
    "Evaluate",
    "recs_ml.pipeline.steps.evaluate",
    inputs=(
        Input("model", "--model-dir", "/opt/ml/processing/model", "train.model", "model.tar.gz"),
        Input("data", "--data-dir", "/opt/ml/processing/data", source="process.output"),
    ),
    outputs=(
        Output("evaluation", "--output", "/opt/ml/processing/evaluation", s3_name="evaluation"),
    ),
)
CONDITION = Step("condition", "CheckModelBeatsBaseline")
REGISTER = Step("register", "Register")
PIPELINE = (PROCESS, TRAIN, EVALUATE, CONDITION, REGISTER)
STEPS = tuple(step.name for step in PIPELINE)
STEP_MODULES = {step.name: step.module for step in PIPELINE if step.module}

# The condition: register when the model beats the baseline on the metric, both read from
# the evaluate step's report (step, output, file).
CONDITION_MODEL = "tfrs"
CONDITION_REPORT = (EVALUATE.name, "evaluation", "evaluation.json")


def condition_path(model: str, metric: str) -> str:
    """The JsonPath the condition reads from evaluation.json: dotted plain names only."""
    path = f"{PLAIN_METRICS}.{model}.{plain_metric_name(metric)}"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", path):
        raise ValueError(f"model {model!r} and metric {metric!r} do not make a dotted JsonPath")
    return path


def condition_holds(
    evaluation: dict[str, Any], baseline: str, metric: str
) -> tuple[bool, float, float, str]:
    """The condition on the local side: does the report's default model beat the baseline?
    ``baseline`` names a model of the report (mostpop, ease, ...) or is a fixed number.
    Returns (passed, model, baseline, reason); a report without the metrics is a ValueError."""
    metrics = evaluation.get("metrics") or {}
    model = evaluation.get("default_model", CONDITION_MODEL)
    try:
        reference, baseline_name = float(baseline), "threshold"
    except ValueError:
        reference, baseline_name = None, baseline
    for name in (model, baseline) if reference is None else (model,):
        if not isinstance((metrics.get(name) or {}).get(metric), int | float):
            raise ValueError(
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
