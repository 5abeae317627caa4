import json
import re

import pytest
from infra_template import (
    as_list,
    flatten,
    only,
    policy_statements,
    resources,
    statements_allowing,
)

GROUP = "recs-movielens-dev"
PIPELINE = "recs-movielens-dev-training"
REGION = "us-east-1"
SAGEMAKER = f"arn:<AWS::Partition>:sagemaker:{REGION}:<AWS::AccountId>:"


@pytest.fixture(scope="module")
def template(synthesized):
    return synthesized.template("training")


@pytest.fixture(scope="module")
def definition(template) -> dict:
    """The embedded definition with CloudFormation references shown as <LogicalId...> markers."""
    pipeline = only(template, "AWS::SageMaker::Pipeline")["Properties"]
    return json.loads(flatten(pipeline["PipelineDefinition"]["PipelineDefinitionBody"]))


def test_pipeline_runs_process_train_evaluate_then_a_condition(definition):
    steps = [(s["Name"], s["Type"]) for s in definition["Steps"]]
    assert steps == [
        ("Process", "Processing"),
        ("Train", "Training"),
        ("Evaluate", "Processing"),
        ("CheckModelBeatsBaseline", "Condition"),
    ]
    entrypoints = [
        s["Arguments"]["AppSpecification"]["ContainerEntrypoint"]
        for s in definition["Steps"]
        if s["Type"] == "Processing"
    ]
    assert entrypoints == [
        ["python", "-m", "recs_ml.pipeline.steps.process"],
        ["python", "-m", "recs_ml.pipeline.steps.evaluate"],
    ]


def test_condition_registers_only_a_model_that_beats_the_baseline(definition):
    condition = definition["Steps"][-1]["Arguments"]
    (check,) = condition["Conditions"]
    assert check["Type"] == "GreaterThan"
    assert check["LeftValue"]["Std:JsonGet"]["Path"] == "plain_metrics.tfrs.ndcg_at_10"
    assert check["RightValue"]["Std:JsonGet"]["Path"] == "plain_metrics.mostpop.ndcg_at_10"
    (register,) = condition["IfSteps"]
    assert condition["ElseSteps"] == []
    assert register["Type"] == "RegisterModel"
    arguments = register["Arguments"]
    assert arguments["ModelPackageGroupName"] == GROUP
    assert arguments["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    (container,) = arguments["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    parameters = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert parameters["ModelApprovalStatus"] == "PendingManualApproval"


def test_placeholders_became_our_role_bucket_and_image(definition):
    text = json.dumps(definition)
    assert "placeholder" not in text
    for step in definition["Steps"][:3]:
        assert step["Arguments"]["RoleArn"].startswith("<TrainingExecutionRole")
    process_output = definition["Steps"][0]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]
    assert process_output["S3Output"]["S3Uri"]["Std:Join"]["Values"] == [
        f"s3://recs-dev-data-<AWS::AccountId>-{REGION}/pipeline",
        "processed",
        {"Get": "Execution.PipelineExecutionId"},
    ]
    image = definition["Steps"][0]["Arguments"]["AppSpecification"]["ImageUri"]
    assert re.fullmatch(r".+\.dkr\.ecr\..+/<TrainingStepImage[0-9A-F]{8}>:latest", image), image


def test_pipeline_and_model_package_group_names(template):
    pipeline = only(template, "AWS::SageMaker::Pipeline")
    assert pipeline["Properties"]["PipelineName"] == PIPELINE
    assert flatten(pipeline["Properties"]["RoleArn"]).startswith("<TrainingExecutionRole")
    group = only(template, "AWS::SageMaker::ModelPackageGroup")
    assert group["Properties"]["ModelPackageGroupName"] == GROUP
    # Kept when the stack is deleted: it holds the model history (and cannot go while it does).
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"
    assert any(d.startswith("TrainingModelPackageGroup") for d in pipeline["DependsOn"])


def test_schedule_starts_this_pipeline_weekly_with_a_role_allowed_only_that(template):
    schedule = only(template, "AWS::Scheduler::Schedule")["Properties"]
    assert schedule["ScheduleExpression"] == "rate(7 days)"
    # cdk.json leaves dev's schedule off; prod's is on (see test_stages).
    assert schedule["State"] == "DISABLED"
    assert flatten(schedule["Target"]["Arn"]) == f"{SAGEMAKER}pipeline/{PIPELINE}"
    statements = policy_statements(template, "TrainingScheduleRole")
    assert [(s["Action"], flatten(s["Resource"])) for s in statements] == [
        ("sagemaker:StartPipelineExecution", f"{SAGEMAKER}pipeline/{PIPELINE}")
    ]


def test_execution_role_is_scoped_to_pipeline_jobs_our_group_and_bucket(template):
    role = next(
        r
        for k, r in resources(template, "AWS::IAM::Role").items()
        if k.startswith("TrainingExecutionRole")
    )
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    statements = policy_statements(template, "TrainingExecutionRole")

    def resources_for(action: str) -> list[str]:
        return sorted(
            flatten(r)
            for s in statements_allowing(statements, action)
            for r in as_list(s["Resource"])
        )

    assert resources_for("sagemaker:CreateTrainingJob") == [
        f"{SAGEMAKER}processing-job/pipelines-*",
        f"{SAGEMAKER}training-job/pipelines-*",
    ]
    assert resources_for("sagemaker:CreateModelPackage") == [
        f"{SAGEMAKER}model-package-group/{GROUP}",
        f"{SAGEMAKER}model-package/{GROUP}/*",
    ]
    assert resources_for("s3:PutObject") == [
        f"arn:<AWS::Partition>:s3:::recs-dev-data-<AWS::AccountId>-{REGION}/*"
    ]
    (pass_role,) = statements_allowing(statements, "iam:PassRole")
    assert flatten(pass_role["Resource"]).startswith("<TrainingExecutionRole")
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    # Only the actions that accept no resource may use "*".
    for statement in statements:
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= {
                "ecr:GetAuthorizationToken",
                "cloudwatch:PutMetricData",
            }, statement


def test_process_step_reads_the_api_ratings_table_and_may_only_scan_it(template, definition):
    """Retraining on AWS adds the ratings people made through the API (its DynamoDB table)."""
    parameters = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert parameters["RatingsTable"] == "recs-dev-ratings"
    statements = policy_statements(template, "TrainingExecutionRole")
    dynamodb = [
        s for s in statements if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
    ]
    (scan,) = dynamodb
    assert as_list(scan["Action"]) == ["dynamodb:Scan"]
    assert [flatten(r) for r in as_list(scan["Resource"])] == [
        f"arn:<AWS::Partition>:dynamodb:{REGION}:<AWS::AccountId>:table/recs-dev-ratings"
    ]


@pytest.fixture(scope="module")
def spark_stage(tmp_path_factory):
    """The training stack of a stage whose Process step runs on Spark."""
    import os

    from aws_cdk.assertions import Template
    from infra_template import CDK_CONTEXT

    from recs_infra.stacks import build

    workdir = tmp_path_factory.mktemp("spark-synth")
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        app, stacks = build(
            {**CDK_CONTEXT, "process_engine": "spark"},
            outdir=str(workdir / "cdk.out"),
            components=("training",),
        )
        app.synth()
    finally:
        os.chdir(previous)
    return Template.from_stack(stacks.training), workdir / "cdk.out"


def test_spark_process_step_role_pulls_the_spark_image_and_cleans_only_its_output(spark_stage):
    import subprocess
    import sys
    from pathlib import Path

    template, outdir = spark_stage
    pipeline = only(template, "AWS::SageMaker::Pipeline")["Properties"]
    definition = json.loads(flatten(pipeline["PipelineDefinition"]["PipelineDefinitionBody"]))
    steps = {step["Name"]: step for step in definition["Steps"]}
    image = steps["Process"]["Arguments"]["AppSpecification"]["ImageUri"]
    spark_repository = f"173754725891.dkr.ecr.{REGION}.amazonaws.com/sagemaker-spark-processing"
    assert image == f"{spark_repository}:3.5-cpu-py312-v1"
    cluster = steps["Process"]["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert cluster["InstanceCount"] == {"Get": "Parameters.ProcessingInstanceCount"}
    statements = policy_statements(template, "TrainingExecutionRole")
    spark_arn = (
        f"arn:<AWS::Partition>:ecr:{REGION}:173754725891:repository/sagemaker-spark-processing"
    )
    pulls = statements_allowing(statements, "ecr:BatchGetImage")
    (pull,) = [s for s in pulls if spark_arn in [flatten(r) for r in as_list(s["Resource"])]]
    assert len(as_list(pull["Resource"])) == 1  # that repository only
    assert sorted(as_list(pull["Action"])) == [
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"
    ]  # fmt: skip
    (delete,) = statements_allowing(statements, "s3:DeleteObject")
    assert as_list(delete["Action"]) == ["s3:DeleteObject"]
    assert [flatten(r) for r in as_list(delete["Resource"])] == [
        f"arn:<AWS::Partition>:s3:::recs-dev-data-<AWS::AccountId>-{REGION}/pipeline/processed/*"
    ]
    lint = str(Path(sys.executable).with_name("cfn-lint"))
    templates = [str(path) for path in sorted(outdir.glob("*.template.json"))]
    result = subprocess.run(
        [lint, "--non-zero-exit-code", "error", *templates], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_spark_job_code_is_uploaded_where_the_process_step_reads_it(spark_stage, template):
    from recs_ml.pipeline.sagemaker import SPARK_CODE_PREFIX, SPARK_ENTRY, SPARK_PY_FILES

    spark_template, _ = spark_stage
    ((logical_id, deployment),) = resources(spark_template, "Custom::CDKBucketDeployment").items()
    properties = deployment["Properties"]
    assert properties["DestinationBucketKeyPrefix"] == f"{SPARK_CODE_PREFIX}/"
    assert flatten(properties["DestinationBucketName"]) == (
        f"recs-dev-data-<AWS::AccountId>-{REGION}"
    )
    pipeline = only(spark_template, "AWS::SageMaker::Pipeline")
    assert logical_id in pipeline["DependsOn"]  # the code is in place before a run can start
    definition = json.loads(flatten(pipeline["Properties"]["PipelineDefinition"][
        "PipelineDefinitionBody"]))  # fmt: skip
    (process,) = [step for step in definition["Steps"] if step["Name"] == "Process"]
    arguments = json.dumps(process["Arguments"])
    for name in (SPARK_ENTRY, SPARK_PY_FILES):
        assert f"/{SPARK_CODE_PREFIX}/{name}" in arguments
    # The local engine's stage uploads no Spark code.
    assert not resources(template, "Custom::CDKBucketDeployment")
