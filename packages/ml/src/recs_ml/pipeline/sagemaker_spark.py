"""The Process step on SageMaker's Spark processing container (``process_engine="spark"``):
the same protocol as a PySpark job over several instances, reading the input and writing the
splits and shards straight to S3 (docs/scale.md, "Spark on SageMaker")."""

from __future__ import annotations

from typing import Any

from recs_ml.pipeline.sagemaker_images import DEFAULT_INSTANCE_TYPE
from recs_ml.pipeline.table import PROCESS

# The SageMaker Spark processing container: Spark 3.5 (pyspark is pinned to 3.5 in the
# lock), Python 3.12 (recs_ml needs >= 3.10).
SPARK_VERSION = "3.5"
SPARK_PY_VERSION = "py312"
SPARK_CONTAINER_VERSION = "1"
# spark-submit's application and --py-files: the step's entry script and recs_ml as a zip.
SPARK_ENTRY = "process_spark.py"
SPARK_PY_FILES = "recs_ml.zip"
DEFAULT_SPARK_INSTANCES = 2


def spark_image_uri(region: str, instance_type: str = DEFAULT_INSTANCE_TYPE) -> str:
    """The SageMaker Spark processing image of ``region`` (its ECR account differs by
    region), as the SDK resolves it offline."""
    from sagemaker.core import image_uris

    try:
        return str(
            image_uris.retrieve(
                "spark",
                region,
                version=SPARK_VERSION,
                py_version=SPARK_PY_VERSION,
                container_version=f"v{SPARK_CONTAINER_VERSION}",
                instance_type=instance_type,
            )
        )
    except ValueError as exc:
        raise ValueError(f"no SageMaker Spark {SPARK_VERSION} image in {region}: {exc}") from None


def spark_process_step(
    *,
    session: Any,
    role_arn: str,
    region: str,
    code_uri: str,
    instance_type: Any,
    input_data: Any,
    output: Any,
    ratings: Any,
    parameters: list[Any],
) -> Any:
    """The Process step as a PySpark job on the SageMaker Spark container: input read from
    and output written to S3 by Spark itself, on ``ProcessingInstanceCount`` instances (a
    pipeline parameter added to ``parameters``); ``code_uri`` holds the uploaded code."""
    from sagemaker.core.spark.processing import PySparkProcessor
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterInteger
    from sagemaker.mlops.workflow.steps import ProcessingStep

    count = ParameterInteger("ProcessingInstanceCount", default_value=DEFAULT_SPARK_INSTANCES)
    parameters.append(count)
    processor = PySparkProcessor(
        role=role_arn,
        image_uri=spark_image_uri(region),
        instance_type=instance_type,
        instance_count=count,
        base_job_name="recs-process-spark",
        sagemaker_session=session,
        env={"AWS_DEFAULT_REGION": region},
    )
    step = ProcessingStep(
        name=PROCESS.title,
        step_args=processor.run(
            submit_app=f"{code_uri}/{SPARK_ENTRY}",
            submit_py_files=[f"{code_uri}/{SPARK_PY_FILES}"],
            arguments=[
                *("--engine", "spark", "--no-store"),
                *(PROCESS.inputs[0].flag, input_data, PROCESS.output("output").flag, output),
                Join(on="=", values=["--ratings-table", ratings]),
            ],
        ),
    )
    return step
