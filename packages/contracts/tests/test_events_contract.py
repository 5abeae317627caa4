from datetime import UTC, datetime

import pytest

from recs_contracts.events import (
    DETAIL_TYPE,
    SOURCE,
    EventError,
    PackageStateChange,
    approval_pattern,
    parse_event,
    state_change_event,
)


def test_source_and_detail_type_are_the_ones_aws_sends():
    # https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
    assert (SOURCE, DETAIL_TYPE) == ("aws.sagemaker", "SageMaker Model Package State Change")


def test_the_event_has_the_aws_shape_and_parses_back():
    change = PackageStateChange("recs-movielens", 3, "Approved", "file:///m.tar.gz",
                                created_at=1795400000000, sha256="ab")  # fmt: skip
    event = state_change_event(change, region="eu-west-1", event_id="1",
                               time=datetime(2026, 11, 23, 10, tzinfo=UTC))  # fmt: skip
    arn = "arn:aws:sagemaker:eu-west-1:000000000000:model-package/recs-movielens/3"
    assert (event["source"], event["detail-type"]) == ("aws.sagemaker", DETAIL_TYPE)
    assert event["time"] == "2026-11-23T10:00:00Z" and event["resources"] == [arn]
    detail = parse_event(event)
    assert detail["ModelPackageArn"] == arn and detail["ModelPackageVersion"] == 3
    assert detail["InferenceSpecification"] == {
        "Containers": [{"ModelDataUrl": "file:///m.tar.gz"}]
    }
    assert detail["CustomerMetadataProperties"] == {"sha256": "ab"}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"detail-type": "Other"}, "got detail-type 'Other'"),
        ([], "got detail-type 'list'"),
        ({"detail-type": DETAIL_TYPE}, "no 'detail'"),
        (
            {"detail-type": DETAIL_TYPE, "detail": {"ModelPackageVersion": 1}},
            "lacks ModelPackageGroupName",
        ),
    ],
)
def test_other_events_are_refused_with_what_is_wrong(event, message):
    with pytest.raises(EventError, match=message):
        parse_event(event)


@pytest.mark.parametrize("version", ["3.5", 3.5, None, True])
def test_a_version_must_be_an_integer(version):
    change = PackageStateChange("g", 1, "Approved", "s3://b/k")
    event = state_change_event(change)
    event["detail"]["ModelPackageVersion"] = version
    with pytest.raises(EventError, match="not an integer"):
        parse_event(event)
    event["detail"]["ModelPackageVersion"] = "7"
    assert parse_event(event)["ModelPackageVersion"] == 7


def test_the_rule_pattern_names_the_group_and_status():
    assert approval_pattern("g") == {
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {"ModelPackageGroupName": ["g"], "ModelApprovalStatus": ["Approved"]},
    }
