"""Stage configuration (dev, prod, ...) read from CDK context, validated before any synthesis."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from recs_ml.ops.deployer import CONFIG_SUFFIX, MAX_NAME_LENGTH

# Serverless endpoints accept 1-6 GB of memory in 1 GB steps and at most 200 concurrent invocations.
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
MAX_SERVERLESS_CONCURRENCY = 200
_NAME = re.compile(r"^[a-z0-9](-*[a-z0-9]){0,62}$")
# The deployer names SageMaker models <group>-v<version> and endpoint configs
# <group>-v<version>-serverless, both limited to 63 characters; room for 6-digit versions.
MAX_VERSION_DIGITS = 6
MAX_GROUP_NAME = MAX_NAME_LENGTH - len("-v") - MAX_VERSION_DIGITS - len(CONFIG_SUFFIX)
_STAGE = re.compile(r"^[a-z][a-z0-9]{0,15}$")
_SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$")


class ConfigError(ValueError):
    """A stage configuration value is missing or out of range."""


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between stages; one instance per `cdk synth`."""

    stage: str
    region: str = "us-east-1"
    account: str | None = None
    model_package_group: str = "recs-movielens"
    endpoint_name: str = "recs-movielens"
    pipeline_name: str = "recs-movielens-training"
    endpoint_memory_mb: int = 2048
    endpoint_max_concurrency: int = 5
    pipeline_image_tag: str = "latest"
    # The Process step's engine: local (one instance of the step image) or spark (the
    # SageMaker Spark container on ProcessingInstanceCount instances).
    process_engine: str = "local"
    training_schedule: str = "rate(7 days)"
    training_schedule_enabled: bool = True
    retain_data: bool = False
    web_origin: str | None = None
    web_repository: str | None = None
    web_branch: str = "main"
    web_access_token_secret: str | None = None

    @property
    def ratings_table(self) -> str:
        """The API's DynamoDB ratings table, named so the training pipeline can read it."""
        return f"recs-{self.stage}-ratings"

    def __post_init__(self) -> None:
        if not _STAGE.match(self.stage):
            raise ConfigError(
                f"stage {self.stage!r}: use 1-16 lowercase letters or digits, starting "
                "with a letter"
            )
        for name in ("model_package_group", "endpoint_name", "pipeline_name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _NAME.match(value):
                raise ConfigError(
                    f"{name} {value!r}: use 1-63 lowercase letters, digits or hyphens "
                    "(SageMaker ARNs are lowercase)"
                )
        if len(self.model_package_group) > MAX_GROUP_NAME:
            raise ConfigError(
                f"model_package_group {self.model_package_group!r} has "
                f"{len(self.model_package_group)} characters; use at most {MAX_GROUP_NAME}: the "
                f"deployer's endpoint config <group>-v<version>{CONFIG_SUFFIX} must fit "
                f"SageMaker's {MAX_NAME_LENGTH}"
            )
        if self.endpoint_memory_mb not in SERVERLESS_MEMORY_MB:
            raise ConfigError(
                f"endpoint_memory_mb {self.endpoint_memory_mb!r}: serverless endpoints accept one "
                f"of {', '.join(map(str, SERVERLESS_MEMORY_MB))}"
            )
        concurrency = self.endpoint_max_concurrency
        if not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_SERVERLESS_CONCURRENCY:
            raise ConfigError(
                f"endpoint_max_concurrency {concurrency!r}: use an integer from 1 to "
                f"{MAX_SERVERLESS_CONCURRENCY}"
            )
        if self.process_engine not in ("local", "spark"):
            raise ConfigError(f"process_engine {self.process_engine!r}: use local or spark")
        if not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", self.pipeline_image_tag):
            raise ConfigError(f"pipeline_image_tag {self.pipeline_image_tag!r}: not a Docker tag")
        if not _SCHEDULE.match(self.training_schedule):
            raise ConfigError(
                f"training_schedule {self.training_schedule!r}: use an EventBridge expression "
                "such as 'rate(7 days)' or 'cron(0 3 ? * MON *)'"
            )
        if self.web_repository and not self.web_access_token_secret:
            raise ConfigError(
                "web_repository is set but web_access_token_secret is not: name the Secrets "
                "Manager secret holding the Git provider token Amplify uses to read the repository"
            )
        if self.web_origin is not None and not re.match(r"^https?://[^/]+$", self.web_origin):
            raise ConfigError(
                f"web_origin {self.web_origin!r}: use a scheme and host without a path, "
                "such as https://main.d123.amplifyapp.com"
            )

    @property
    def prefix(self) -> str:
        """Stack name prefix, e.g. ``Recs-dev``."""
        return f"Recs-{self.stage}"


_INT_FIELDS = {"endpoint_memory_mb", "endpoint_max_concurrency"}
_BOOL_FIELDS = {"retain_data", "training_schedule_enabled"}


def _coerce(name: str, value: Any) -> Any:
    """Context given with ``-c key=value`` arrives as a string; accept that form too."""
    if name in _INT_FIELDS and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{name} {value!r}: expected an integer") from None
    if name in _BOOL_FIELDS and isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise ConfigError(f"{name} {value!r}: expected true or false")
        return value.lower() == "true"
    return value


def stage_config_from_context(context: dict[str, Any]) -> StageConfig:
    """Merge ``stages.<stage>`` from cdk.json with top-level ``-c key=value`` overrides."""
    stage = str(context.get("stage") or "dev")
    stages = context.get("stages") or {}
    if not isinstance(stages, dict):
        raise ConfigError("context 'stages' must map stage names to settings")
    per_stage = stages.get(stage) or {}
    if not isinstance(per_stage, dict):
        raise ConfigError(f"context 'stages.{stage}' must be an object of settings")
    known = {f.name for f in fields(StageConfig)} - {"stage"}
    unknown = sorted(set(per_stage) - known)
    if unknown:
        raise ConfigError(
            f"context 'stages.{stage}' has unknown settings {unknown}; known: {sorted(known)}"
        )
    values = {name: _coerce(name, value) for name, value in per_stage.items()}
    for name in known & set(context):
        values[name] = _coerce(name, context[name])
    return StageConfig(stage=stage, **values)
