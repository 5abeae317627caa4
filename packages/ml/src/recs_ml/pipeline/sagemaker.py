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

from pathlib import PurePosixPath
from typing import Any

from recs_ml.pipeline import DEFAULT_BASELINE, DEFAULT_METRIC
from recs_ml.pipeline.sagemaker_images import DEFAULT_INSTANCE_TYPE, step_images
from recs_ml.pipeline.sagemaker_spark import spark_process_step
from recs_ml.pipeline.steps.process import ENGINES as PROCESS_ENGINES
from recs_ml.pipeline.table import (
    CONDITION,
    CONDITION_MODEL,
    CONDITION_REPORT,
    EVALUATE,
    PROCESS,
    REGISTER,
    TRAIN,
    Step,
    condition_path,
)

DEFAULT_PIPELINE_NAME = "recs-movielens-training"
# Everything the pipeline writes goes under s3://<bucket>/pipeline/; each execution's
# evaluation report under pipeline/evaluation/<execution id>/ (the API reads it).
S3_PREFIX = "pipeline"
EVALUATION_KEYS = f"{S3_PREFIX}/evaluation/*"
# The RatingsTable value that means "no table" (a pipeline parameter cannot be empty).
NO_RATINGS_TABLE = "none"
# spark-submit's application and --py-files, uploaded by the deployment (docs/scale.md).
SPARK_CODE_PREFIX = f"{S3_PREFIX}/code/spark"


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
    images = step_images(image_uris, region, role_arn)
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

    def processor(step: Step) -> Any:
        return Processor(
            role=role_arn,
            image_uri=images["processing"],
            entrypoint=["python", "-m", str(step.module)],
            instance_count=1,
            instance_type=processing_instance,
            base_job_name=f"recs-{step.name}",
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

    def run_args(step: Step, sources: dict[str | None, Any], *extra: Any) -> dict[str, Any]:
        """The table's inputs, outputs and script arguments of ``step`` on SageMaker."""
        ports = [(port.flag, port.argument) for port in step.inputs]
        ports += [(output.flag, output.container) for output in step.outputs]
        return {
            "inputs": [s3_input(i.name, sources[i.source], i.container) for i in step.inputs],
            "outputs": [
                s3_output(o.s3_name, o.container, run_prefix(o.s3_name)) for o in step.outputs
            ],
            "arguments": [arg for pair in ports for arg in pair] + list(extra),
        }

    def output_uri(step: Any, name: str) -> Any:
        return step.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    if process_engine == "spark":
        processed_uri = run_prefix(PROCESS.output("output").s3_name)
        process_step = spark_process_step(
            session=session,
            role_arn=role_arn,
            region=region,
            code_uri=f"s3://{bucket}/{SPARK_CODE_PREFIX}",
            instance_type=processing_instance,
            input_data=input_data,
            output=processed_uri,
            ratings=ratings,
            parameters=parameters,
        )
    else:
        process_step = ProcessingStep(
            name=PROCESS.title,
            step_args=processor(PROCESS).run(
                **run_args(
                    PROCESS, {None: input_data}, Join(on="=", values=["--ratings-table", ratings])
                )
            ),
        )
        processed_uri = output_uri(process_step, PROCESS.output("output").s3_name)

    trainer = ModelTrainer(
        training_image=images["training"],
        role=role_arn,
        base_job_name="recs-train",
        sagemaker_session=session,
        compute=Compute(
            instance_type=training_instance, instance_count=training_count, volume_size_in_gb=30
        ),
        hyperparameters=dict(hyperparameters or {}),
        output_data_config=OutputDataConfig(
            s3_output_path=f"{prefix}/{TRAIN.output('model').s3_name}"
        ),
        input_data_config=[
            Channel(
                # $SM_CHANNEL_TRAIN: SageMaker mounts a channel at /opt/ml/input/data/<name>.
                channel_name=PurePosixPath(TRAIN.inputs[0].container).name,
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
        name=TRAIN.title,
        step_args=trainer.train(),
        # The Spark step writes to S3 itself: the channel's URI is no step property.
        depends_on=[process_step] if process_engine == "spark" else None,
    )
    model_data = train_step.properties.ModelArtifacts.S3ModelArtifacts

    _, report_output, report_file = CONDITION_REPORT
    evaluation_report = PropertyFile(
        name="EvaluationReport", output_name=report_output, path=report_file
    )
    sources: dict[str | None, Any] = {"train.model": model_data, "process.output": processed_uri}
    evaluate_step = ProcessingStep(
        name=EVALUATE.title,
        step_args=processor(EVALUATE).run(**run_args(EVALUATE, sources)),
        property_files=[evaluation_report],
    )

    # The registered version points at its own evaluation.json (GET /models reads its metrics).
    evaluation_uri = output_uri(evaluate_step, EVALUATE.output(report_output).s3_name)
    model_metrics = ModelMetrics(
        model_statistics=MetricsSource(
            content_type="application/json",
            s3_uri=Join(on="/", values=[evaluation_uri, report_file]),
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
        name=REGISTER.title,
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

    def report_value(model: str) -> Any:
        path = condition_path(model, metric)
        return JsonGet(
            step_name=evaluate_step.name, property_file=evaluation_report, json_path=path
        )

    condition_step = ConditionStep(
        name=CONDITION.title,
        conditions=[
            ConditionGreaterThan(left=report_value(CONDITION_MODEL), right=report_value(baseline))
        ],
        if_steps=[register_step],
        else_steps=[],
    )
    return Pipeline(
        name=pipeline_name,
        parameters=parameters,
        steps=[process_step, train_step, evaluate_step, condition_step],
        sagemaker_session=session,
    )
