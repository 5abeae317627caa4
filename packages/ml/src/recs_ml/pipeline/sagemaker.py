"""The pipeline as a SageMaker Pipeline (sagemaker SDK v3), for packages/infra to embed.

The same five steps as ``recs pipeline run`` — process → train → evaluate → condition →
register — running the same step scripts (``python -m recs_ml.pipeline.steps.<step>``) in the
container image(s) named by ``image_uris``. Nothing is uploaded while the definition is
built: the steps are entrypoints of an image that has recs-ml installed, so
``get_pipeline(...).definition()`` works offline (inside moto's ``mock_aws`` with
``SAGEMAKER_VALIDATE_ROLE=false`` and a region set).

Image contract (``image_uris``): ``processing`` runs
``python -m recs_ml.pipeline.steps.process`` and ``... .evaluate`` as its entrypoint; ``training``
is a SageMaker training image whose ``train`` program runs
``python -m recs_ml.pipeline.steps.train`` (SageMaker starts it as ``<image> train`` and passes
hyperparameters in ``/opt/ml/input/config/hyperparameters.json``); ``inference`` is the
TensorFlow Serving container that serves the registered ``model.tar.gz``.

``sagemaker`` is the optional extra ``recs-ml[aws]`` and is imported only inside
:func:`get_pipeline`.
"""

from __future__ import annotations

import re
from typing import Any

from recs_ml.pipeline import DEFAULT_BASELINE, DEFAULT_METRIC, PLAIN_METRICS, plain_metric_name
from recs_ml.pipeline.steps.process import ENGINES as PROCESS_ENGINES

DEFAULT_PIPELINE_NAME = "recs-movielens-training"
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
# TensorFlow of the TF Serving image that serves the registered model: the newest SageMaker
# TensorFlow inference image (the SDK's image_uris config), and the minor version training pins
# (packages/ml/pyproject.toml); packages/ml/tests/test_tf_versions.py keeps the two equal.
SERVING_TF_VERSION = "2.20"
# A CPU instance type picks the CPU image (serverless endpoints run on CPU).
INFERENCE_IMAGE_INSTANCE_TYPE = "ml.m5.large"
# The recs-ml step image in the role's account, when image_uris names none.
DEFAULT_STEP_IMAGE = "{account}.dkr.ecr.{region}.amazonaws.com/recs-ml:latest"
# Everything the pipeline writes goes under s3://<bucket>/pipeline/; each execution's
# evaluation report under pipeline/evaluation/<execution id>/ (the API reads it).
S3_PREFIX = "pipeline"
EVALUATION_KEYS = f"{S3_PREFIX}/evaluation/*"
# The RatingsTable value that means "no table" (a pipeline parameter cannot be empty).
NO_RATINGS_TABLE = "none"
PROCESSING_OUTPUT = "/opt/ml/processing/output"
EVALUATION_OUTPUT = "/opt/ml/processing/evaluation"
STEP_NAMES = ("Process", "Train", "Evaluate", "CheckModelBeatsBaseline", "Register")
# The SageMaker Spark processing container: Spark 3.5 (pyspark is pinned to 3.5 in the
# lock), Python 3.12 (recs_ml needs >= 3.10).
SPARK_VERSION = "3.5"
SPARK_PY_VERSION = "py312"
SPARK_CONTAINER_VERSION = "1"
# spark-submit's application and --py-files: recs_ml as a zip and the step's entry script,
# uploaded under the bucket by the deployment (docs/scale.md, "Spark on SageMaker").
SPARK_CODE_PREFIX = f"{S3_PREFIX}/code/spark"
SPARK_ENTRY = "process_spark.py"
SPARK_PY_FILES = "recs_ml.zip"
DEFAULT_SPARK_INSTANCES = 2


def _images(image_uris: dict[str, str] | None, region: str, role_arn: str) -> dict[str, str]:
    images = dict(image_uris or {})
    unknown = set(images) - {"processing", "training", "inference"}
    if unknown:
        raise ValueError(
            f"image_uris has unknown key(s) {sorted(unknown)}; use processing, training, inference"
        )
    if "processing" not in images and "training" not in images:
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        if not account.isdigit():
            raise ValueError(
                "image_uris needs 'processing': an image with recs-ml installed that runs the "
                "step scripts (no account in role_arn to derive the default from)"
            )
        images["processing"] = DEFAULT_STEP_IMAGE.format(account=account, region=region)
    images.setdefault("processing", images.get("training", ""))
    images.setdefault("training", images["processing"])
    if "inference" not in images:
        images["inference"] = inference_image_uri(region)
    return images


def inference_image_uri(region: str, version: str = SERVING_TF_VERSION) -> str:
    """The SageMaker TF Serving image of ``region`` (its ECR account differs by region), as the
    SDK resolves it offline; the register step names it and the deployer falls back to it."""
    from sagemaker.core import image_uris

    try:
        return str(
            image_uris.retrieve(
                "tensorflow",
                region,
                version=version,
                image_scope="inference",
                instance_type=INFERENCE_IMAGE_INSTANCE_TYPE,
            )
        )
    except ValueError as exc:
        raise ValueError(
            f"no SageMaker TensorFlow {version} inference image in {region}: {exc}"
        ) from None


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


def condition_path(model: str, metric: str) -> str:
    """The JsonPath the condition reads from evaluation.json: dotted plain names only."""
    path = f"{PLAIN_METRICS}.{model}.{plain_metric_name(metric)}"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", path):
        raise ValueError(f"model {model!r} and metric {metric!r} do not make a dotted JsonPath")
    return path


def get_pipeline(
    *,
    role_arn: str,
    bucket: str,
    model_package_group: str,
    region: str,
    image_uris: dict[str, str] | None = None,
    pipeline_name: str = DEFAULT_PIPELINE_NAME,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    baseline: str = DEFAULT_BASELINE,
    metric: str = DEFAULT_METRIC,
    hyperparameters: dict[str, str] | None = None,
    ratings_table: str | None = None,
    process_engine: str = "local",
) -> Any:
    """Build the SageMaker ``Pipeline``; call ``.definition()`` for its JSON.

    Args (keyword-only):
        role_arn: execution role of the pipeline's jobs (S3 read/write on ``bucket``, ECR pull,
            SageMaker model package creation).
        bucket: S3 bucket for data and outputs: input ``s3://<bucket>/data/ml-100k/`` by default
            (pipeline parameter ``InputDataUrl``), outputs under ``s3://<bucket>/pipeline/``.
        model_package_group: the model package group the Register step adds versions to
            (PendingManualApproval); approving one triggers the deployer.
        region: AWS region of the pipeline (also picks the inference image's ECR account).
        image_uris: ``{"processing": ..., "training": ..., "inference": ...}``; see the module
            docstring for what each image must provide. ``processing`` defaults to
            ``<role account>.dkr.ecr.<region>.amazonaws.com/recs-ml:latest``, ``training`` to
            ``processing``, ``inference`` to the TF Serving image for ``region``.
        pipeline_name: the pipeline's name.
        instance_type: default instance type of the processing and training jobs (pipeline
            parameters ``ProcessingInstanceType``, ``TrainingInstanceType``).
        baseline: the evaluation.json model the condition compares against (default mostpop).
        metric: the metric compared (default ndcg@10); the condition is
            ``plain_metrics.tfrs.<m> > plain_metrics.<baseline>.<m>`` with ``m`` the plain
            name (``ndcg_at_10``) that evaluation.json repeats its metrics under.
        hyperparameters: training hyperparameters
            (``recs_ml.models.hyperparameters.Hyperparameters``).
        ratings_table: the API's DynamoDB ratings table, whose ``source = 'api'`` ratings the
            Process step adds to the dataset (pipeline parameter ``RatingsTable``; ``none``, the
            default, reads no table: SageMaker refuses an empty parameter value), so people who
            rate movies are personalised by the next run. The role needs ``dynamodb:Scan`` on
            it; a table that does not exist yet counts as no ratings.
        process_engine: ``local`` — the Process step runs the columnar engine on one instance
            of the step image; ``spark`` — it runs the same protocol as a PySpark job on the
            SageMaker Spark processing container (:func:`spark_image_uri`) over
            ``ProcessingInstanceCount`` instances (pipeline parameter), reading the input and
            writing the splits and shards straight to S3 (spark-submit's application and
            ``--py-files`` under ``s3://<bucket>/pipeline/code/spark/``).

    The training step's instance count is the pipeline parameter ``TrainingInstanceCount``;
    with several, the step builds TF_CONFIG from ``SM_HOSTS`` and trains with
    MultiWorkerMirroredStrategy (``batch_size`` stays the global batch).
    """
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import (
        Channel,
        DataSource,
        OutputDataConfig,
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
        S3DataSource,
    )
    from sagemaker.core.training.configs import Compute
    from sagemaker.core.workflow.conditions import ConditionGreaterThan
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.model_trainer import ModelTrainer

    if process_engine not in PROCESS_ENGINES:
        raise ValueError(
            f"process_engine {process_engine!r}: expected one of {', '.join(PROCESS_ENGINES)}"
        )
    if not role_arn.startswith("arn:"):
        raise ValueError(f"role_arn {role_arn!r} is not an IAM role ARN")
    if not bucket or bucket.startswith("s3://") or "/" in bucket:
        raise ValueError(f"bucket {bucket!r}: give the bucket name only, not an s3:// URL")
    images = _images(image_uris, region, role_arn)
    prefix = f"s3://{bucket}/{S3_PREFIX}"
    import boto3

    session = PipelineSession(boto_session=boto3.Session(region_name=region), default_bucket=bucket)
    # A known bucket: default_bucket() would otherwise probe (and create) it over the network.
    session._default_bucket = bucket

    input_data = ParameterString("InputDataUrl", default_value=f"s3://{bucket}/data/ml-100k/")
    processing_instance = ParameterString("ProcessingInstanceType", default_value=instance_type)
    training_instance = ParameterString("TrainingInstanceType", default_value=instance_type)
    approval_status = ParameterString("ModelApprovalStatus", default_value="PendingManualApproval")
    ratings = ParameterString("RatingsTable", default_value=ratings_table or NO_RATINGS_TABLE)
    training_count = ParameterInteger("TrainingInstanceCount", default_value=1)
    parameters = [input_data, processing_instance, training_instance, approval_status, ratings]
    parameters.append(training_count)

    def processor(step: str) -> Any:
        return Processor(
            role=role_arn,
            image_uri=images["processing"],
            entrypoint=["python", "-m", f"recs_ml.pipeline.steps.{step}"],
            instance_count=1,
            instance_type=processing_instance,
            base_job_name=f"recs-{step}",
            sagemaker_session=session,
            env={"AWS_DEFAULT_REGION": region},
        )

    def s3_input(name: str, uri: Any, local: str) -> Any:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri,
                local_path=local,
                s3_data_type="S3Prefix",
                s3_input_mode="File",
            ),
        )

    def run_prefix(name: str) -> Any:
        # Per execution, so a later run never overwrites what an earlier version points at.
        return Join(on="/", values=[prefix, name, ExecutionVariables.PIPELINE_EXECUTION_ID])

    def s3_output(name: str, local: str, uri: Any) -> Any:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(s3_uri=uri, local_path=local, s3_upload_mode="EndOfJob"),
        )

    if process_engine == "spark":
        process_step, processed_uri = _spark_process_step(
            session=session,
            role_arn=role_arn,
            region=region,
            bucket=bucket,
            instance_type=processing_instance,
            input_data=input_data,
            output=run_prefix("processed"),
            ratings=ratings,
            parameters=parameters,
        )
    else:
        process_step = ProcessingStep(
            name="Process",
            step_args=processor("process").run(
                inputs=[s3_input("data", input_data, "/opt/ml/processing/input/data")],
                outputs=[s3_output("processed", PROCESSING_OUTPUT, run_prefix("processed"))],
                arguments=[
                    "--data",
                    "/opt/ml/processing/input/data",
                    "--output",
                    PROCESSING_OUTPUT,
                    Join(on="=", values=["--ratings-table", ratings]),
                ],
            ),
        )
        processed_uri = process_step.properties.ProcessingOutputConfig.Outputs[
            "processed"
        ].S3Output.S3Uri

    trainer = ModelTrainer(
        training_image=images["training"],
        role=role_arn,
        base_job_name="recs-train",
        sagemaker_session=session,
        compute=Compute(
            instance_type=training_instance, instance_count=training_count, volume_size_in_gb=30
        ),
        hyperparameters=dict(hyperparameters or {}),
        output_data_config=OutputDataConfig(s3_output_path=f"{prefix}/models"),
        input_data_config=[
            Channel(
                channel_name="train",
                data_source=DataSource(
                    s3_data_source=S3DataSource(
                        s3_data_type="S3Prefix",
                        s3_uri=processed_uri,
                        s3_data_distribution_type="FullyReplicated",
                    )
                ),
            )
        ],
    )
    train_step = TrainingStep(
        name="Train",
        step_args=trainer.train(),
        # The Spark step writes to S3 itself: the channel's URI is no step property.
        depends_on=[process_step] if process_engine == "spark" else None,
    )
    model_data = train_step.properties.ModelArtifacts.S3ModelArtifacts

    evaluation_report = PropertyFile(
        name="EvaluationReport", output_name="evaluation", path="evaluation.json"
    )
    evaluate_step = ProcessingStep(
        name="Evaluate",
        step_args=processor("evaluate").run(
            inputs=[
                s3_input("model", model_data, "/opt/ml/processing/model"),
                s3_input("data", processed_uri, "/opt/ml/processing/data"),
            ],
            outputs=[s3_output("evaluation", EVALUATION_OUTPUT, run_prefix("evaluation"))],
            arguments=[
                "--model-dir",
                "/opt/ml/processing/model/model.tar.gz",
                "--data-dir",
                "/opt/ml/processing/data",
                "--output",
                EVALUATION_OUTPUT,
            ],
        ),
        property_files=[evaluation_report],
    )

    # The registered version points at its own evaluation.json (GET /models reads its metrics).
    evaluation_uri = evaluate_step.properties.ProcessingOutputConfig.Outputs[
        "evaluation"
    ].S3Output.S3Uri
    model_metrics = ModelMetrics(
        model_statistics=MetricsSource(
            content_type="application/json",
            s3_uri=Join(on="/", values=[evaluation_uri, "evaluation.json"]),
        )
    )
    builder = ModelBuilder(
        s3_model_data_url=model_data,
        image_uri=images["inference"],
        role_arn=role_arn,
        sagemaker_session=session,
        env_vars={"SAGEMAKER_TFS_DEFAULT_MODEL_NAME": "tfrs"},
    )
    register_step = ModelStep(
        name="Register",
        step_args=builder.register(
            model_package_group_name=model_package_group,
            content_types=["application/json"],
            response_types=["application/json"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            approval_status=approval_status,
            model_metrics=model_metrics,
            description=f"recs model: tfrs {metric} beat {baseline} on the test split",
        ),
    )

    beats_baseline = ConditionGreaterThan(
        left=JsonGet(
            step_name=evaluate_step.name,
            property_file=evaluation_report,
            json_path=condition_path("tfrs", metric),
        ),
        right=JsonGet(
            step_name=evaluate_step.name,
            property_file=evaluation_report,
            json_path=condition_path(baseline, metric),
        ),
    )
    condition_step = ConditionStep(
        name="CheckModelBeatsBaseline",
        conditions=[beats_baseline],
        if_steps=[register_step],
        else_steps=[],
    )
    return Pipeline(
        name=pipeline_name,
        parameters=parameters,
        steps=[process_step, train_step, evaluate_step, condition_step],
        sagemaker_session=session,
    )


def _spark_process_step(
    *,
    session: Any,
    role_arn: str,
    region: str,
    bucket: str,
    instance_type: Any,
    input_data: Any,
    output: Any,
    ratings: Any,
    parameters: list[Any],
) -> tuple[Any, Any]:
    """The Process step as a PySpark job on the SageMaker Spark container: input read from
    and output written to S3 by Spark itself, on ``ProcessingInstanceCount`` instances."""
    from sagemaker.core.spark.processing import PySparkProcessor
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterInteger
    from sagemaker.mlops.workflow.steps import ProcessingStep

    count = ParameterInteger("ProcessingInstanceCount", default_value=DEFAULT_SPARK_INSTANCES)
    parameters.append(count)
    code = f"s3://{bucket}/{SPARK_CODE_PREFIX}"
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
        name="Process",
        step_args=processor.run(
            submit_app=f"{code}/{SPARK_ENTRY}",
            submit_py_files=[f"{code}/{SPARK_PY_FILES}"],
            arguments=[
                "--engine",
                "spark",
                "--no-store",
                "--data",
                input_data,
                "--output",
                output,
                Join(on="=", values=["--ratings-table", ratings]),
            ],
        ),
    )
    return step, output
