"""The SageMaker Pipeline definition builds offline and mirrors the local pipeline."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from moto import mock_aws

from recs_ml.pipeline.sagemaker import (
    SERVING_TF_VERSION,
    condition_path,
    get_pipeline,
    inference_image_uri,
)

ROLE = "arn:aws:iam::111122223333:role/recs-pipeline"
IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/recs-ml:1"


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    with mock_aws():
        yield


def definition(**overrides):
    options = {
        "role_arn": ROLE,
        "bucket": "recs-data-bucket",
        "model_package_group": "recs-movielens",
        "region": "us-east-1",
        "image_uris": {"processing": IMAGE},
        **overrides,
    }
    return json.loads(get_pipeline(**options).definition())


def test_definition_has_the_five_steps_and_the_condition(offline):
    steps = {step["Name"]: step for step in definition()["Steps"]}
    assert list(steps) == ["Process", "Train", "Evaluate", "CheckModelBeatsBaseline"]
    condition = steps["CheckModelBeatsBaseline"]
    assert condition["Type"] == "Condition"
    (register,) = condition["Arguments"]["IfSteps"]
    assert register["Name"] == "Register" and register["Type"] == "RegisterModel"
    assert register["Arguments"]["ModelPackageGroupName"] == "recs-movielens"
    assert register["Arguments"]["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    (greater,) = condition["Arguments"]["Conditions"]
    assert greater["Type"] == "GreaterThan"
    assert greater["LeftValue"]["Std:JsonGet"]["Path"] == "plain_metrics.tfrs.ndcg_at_10"
    assert greater["RightValue"]["Std:JsonGet"]["Path"] == "plain_metrics.mostpop.ndcg_at_10"
    # Registration needs the trained artifact; evaluation reads it and the processed data.
    container = register["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}


def test_steps_run_the_same_step_scripts_as_the_local_runner(offline):
    steps = {step["Name"]: step for step in definition()["Steps"]}
    for name, module in (("Process", "process"), ("Evaluate", "evaluate")):
        app = steps[name]["Arguments"]["AppSpecification"]
        assert app["ContainerEntrypoint"] == ["python", "-m", f"recs_ml.pipeline.steps.{module}"]
        assert app["ImageUri"] == IMAGE
    train = steps["Train"]["Arguments"]
    assert train["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    channel = train["InputDataConfig"][0]
    assert channel["ChannelName"] == "train"  # $SM_CHANNEL_TRAIN = the process output
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.Process.ProcessingOutputConfig.Outputs['processed'].S3Output.S3Uri"
    }
    files = steps["Evaluate"]["PropertyFiles"][0]
    assert (files["OutputName"], files["FilePath"]) == ("evaluation", "evaluation.json")


def test_each_execution_writes_its_own_outputs_and_registers_its_own_report(offline):
    steps = {step["Name"]: step for step in definition()["Steps"]}
    execution = {"Get": "Execution.PipelineExecutionId"}
    for step, output in (("Process", "processed"), ("Evaluate", "evaluation")):
        (config,) = steps[step]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
        assert config["S3Output"]["S3Uri"] == {
            "Std:Join": {"On": "/", "Values": ["s3://recs-data-bucket/pipeline", output, execution]}
        }
    (register,) = steps["CheckModelBeatsBaseline"]["Arguments"]["IfSteps"]
    statistics = register["Arguments"]["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    evaluation = "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"
    assert statistics["S3Uri"] == {
        "Std:Join": {"On": "/", "Values": [{"Get": evaluation}, "evaluation.json"]}
    }


def test_nothing_is_uploaded_while_the_definition_is_built(offline):
    definition(hyperparameters={"epochs": "5"})
    assert boto3.client("s3").list_buckets()["Buckets"] == []


def test_baseline_metric_and_hyperparameters_are_configurable(offline):
    steps = {
        s["Name"]: s for s in definition(baseline="ease", hyperparameters={"epochs": "5"})["Steps"]
    }
    (greater,) = steps["CheckModelBeatsBaseline"]["Arguments"]["Conditions"]
    assert greater["RightValue"]["Std:JsonGet"]["Path"] == "plain_metrics.ease.ndcg_at_10"
    assert steps["Train"]["Arguments"]["HyperParameters"] == {"epochs": "5"}


def test_step_image_defaults_to_the_recs_ml_repository_of_the_role_account(offline):
    steps = {s["Name"]: s for s in definition(image_uris=None)["Steps"]}
    image = steps["Process"]["Arguments"]["AppSpecification"]["ImageUri"]
    assert image == "111122223333.dkr.ecr.us-east-1.amazonaws.com/recs-ml:latest"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"role_arn": "recs-role"}, "not an IAM role ARN"),
        ({"bucket": "s3://recs-data-bucket"}, "bucket name only"),
        ({"image_uris": {}, "role_arn": "arn:aws:iam::role/x"}, "needs 'processing'"),
        ({"image_uris": {"processing": IMAGE, "serving": IMAGE}}, "unknown key"),
    ],
)
def test_bad_arguments_are_clear_errors(offline, overrides, message):
    with pytest.raises(ValueError, match=message):
        definition(**overrides)


def test_process_step_adds_the_api_ratings_table_given_as_a_parameter(offline):
    built = definition(ratings_table="recs-dev-ratings")
    parameters = {p["Name"]: p for p in built["Parameters"]}
    assert parameters["RatingsTable"]["DefaultValue"] == "recs-dev-ratings"
    process = next(s for s in built["Steps"] if s["Name"] == "Process")["Arguments"]
    arguments = process["AppSpecification"]["ContainerArguments"]
    assert arguments[-1] == {
        "Std:Join": {"On": "=", "Values": ["--ratings-table", {"Get": "Parameters.RatingsTable"}]}
    }
    assert process["Environment"]["AWS_DEFAULT_REGION"] == "us-east-1"
    # Without a table the parameter says "none" (SageMaker refuses an empty parameter value).
    parameters = {p["Name"]: p for p in definition()["Parameters"]}
    assert parameters["RatingsTable"]["DefaultValue"] == "none"


def _json_get(report: dict, path: str) -> float:
    """SageMaker's Std:JsonGet: a JsonPath over the property file that must match one value."""
    from jsonpath_ng import parse

    matches = [match.value for match in parse(path).find(report)]
    assert len(matches) == 1, f"{path} matched {matches}"
    return matches[0]


def test_the_condition_paths_read_the_evaluation_report_as_written(offline, tmp_path):
    from recs_ml.models.evaluation import write_report

    metrics = {
        "tfrs": {"ndcg@10": 0.21, "recall@10": 0.3},
        "mostpop": {"ndcg@10": 0.11, "recall@10": 0.2},
        "ease": {"ndcg@10": 0.19, "recall@10": 0.28},
    }
    write_report(tmp_path, metrics, "tfrs", 943)
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert report["metrics"] == metrics  # every reader of the @ names keeps working
    for baseline in ("mostpop", "ease"):
        steps = {s["Name"]: s for s in definition(baseline=baseline)["Steps"]}
        (greater,) = steps["CheckModelBeatsBaseline"]["Arguments"]["Conditions"]
        left = _json_get(report, greater["LeftValue"]["Std:JsonGet"]["Path"])
        right = _json_get(report, greater["RightValue"]["Std:JsonGet"]["Path"])
        assert (left, right) == (0.21, metrics[baseline]["ndcg@10"])
        # Dotted plain names only: the JsonPath subset every implementation reads alike
        # (brackets and '@', the current-node sign, are where dialects part).
        for side in ("LeftValue", "RightValue"):
            path = greater[side]["Std:JsonGet"]["Path"]
            assert re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+", path), path
    assert _json_get(report, condition_path("ease", "recall@10")) == 0.28


def test_a_condition_path_that_is_not_plain_is_refused():
    with pytest.raises(ValueError, match="do not make a dotted JsonPath"):
        condition_path("0.15", "ndcg@10")


@pytest.mark.parametrize(
    ("region", "account", "suffix"),
    [
        ("us-east-1", "763104351884", "amazonaws.com"),
        ("eu-south-1", "692866216735", "amazonaws.com"),
        ("af-south-1", "626614931356", "amazonaws.com"),
        ("cn-north-1", "727897471807", "amazonaws.com.cn"),
    ],
)
def test_the_inference_image_is_resolved_per_region_by_the_sdk(offline, region, account, suffix):
    image = inference_image_uri(region)
    assert image == (
        f"{account}.dkr.ecr.{region}.{suffix}/tensorflow-inference:{SERVING_TF_VERSION}-cpu-py312"
    )
    steps = {s["Name"]: s for s in definition(region=region)["Steps"]}
    (register,) = steps["CheckModelBeatsBaseline"]["Arguments"]["IfSteps"]
    container = register["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == image


def test_a_region_without_the_image_is_a_clear_error(offline):
    with pytest.raises(ValueError, match="no SageMaker TensorFlow 2.20 inference image in mars-1"):
        inference_image_uri("mars-1")


@pytest.mark.parametrize(
    ("region", "account"), [("us-east-1", "173754725891"), ("eu-west-1", "571004829621")]
)
def test_spark_process_step_uses_the_regions_spark_image_and_instance_count(
    offline, region, account
):
    from recs_ml.pipeline.sagemaker import SPARK_CODE_PREFIX, spark_image_uri

    document = definition(process_engine="spark", region=region)
    steps = {step["Name"]: step for step in document["Steps"]}
    process = steps["Process"]["Arguments"]
    image = process["AppSpecification"]["ImageUri"]
    assert image == spark_image_uri(region)
    assert image.startswith(f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-spark-processing")
    assert ":3.5-cpu-py312" in image
    resources = process["ProcessingResources"]["ClusterConfig"]
    assert resources["InstanceCount"] == {"Get": "Parameters.ProcessingInstanceCount"}
    parameters = {p["Name"]: p for p in document["Parameters"]}
    assert parameters["ProcessingInstanceCount"]["Type"] == "Integer"
    assert parameters["ProcessingInstanceCount"]["DefaultValue"] == 2
    # spark-submit runs our entry script with recs_ml on --py-files, from the bucket.
    (code,) = [i for i in process["ProcessingInputs"] if i["InputName"] == "code"]
    assert code["S3Input"]["S3Uri"] == f"s3://recs-data-bucket/{SPARK_CODE_PREFIX}/process_spark.py"
    submit = process["AppSpecification"]["ContainerEntrypoint"]
    assert submit[-1] == "/opt/ml/processing/input/code/process_spark.py"
    assert f"s3://recs-data-bucket/{SPARK_CODE_PREFIX}/recs_ml.zip" in submit
    arguments = json.dumps(process["AppSpecification"]["ContainerArguments"])
    assert '"--engine", "spark"' in arguments and "InputDataUrl" in arguments
    # Spark writes the splits to S3 itself; training reads that prefix after the step.
    train = steps["Train"]
    assert train["DependsOn"] == ["Process"]
    channel = train["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert json.dumps(channel).count("processed") == 1


def test_training_instance_count_is_a_pipeline_parameter(offline):
    document = definition()
    parameters = {p["Name"]: p for p in document["Parameters"]}
    assert parameters["TrainingInstanceCount"] == {
        "Name": "TrainingInstanceCount", "Type": "Integer", "DefaultValue": 1
    }  # fmt: skip
    train = next(step for step in document["Steps"] if step["Name"] == "Train")
    assert train["Arguments"]["ResourceConfig"]["InstanceCount"] == {
        "Get": "Parameters.TrainingInstanceCount"
    }
    with pytest.raises(ValueError, match="process_engine 'hadoop'"):
        definition(process_engine="hadoop")
