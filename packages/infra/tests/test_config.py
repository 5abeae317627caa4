import pytest

from recs_infra.config import ConfigError, StageConfig, stage_config_from_context

STAGES = {
    "dev": {"endpoint_memory_mb": 2048, "model_package_group": "recs-movielens-dev"},
    "prod": {"endpoint_memory_mb": 4096, "retain_data": True},
}


def test_stage_settings_come_from_the_stages_map():
    dev = stage_config_from_context({"stage": "dev", "stages": STAGES})
    prod = stage_config_from_context({"stage": "prod", "stages": STAGES})
    assert (dev.model_package_group, dev.endpoint_memory_mb, dev.retain_data) == (
        "recs-movielens-dev",
        2048,
        False,
    )
    assert (prod.model_package_group, prod.endpoint_memory_mb, prod.retain_data) == (
        "recs-movielens",
        4096,
        True,
    )
    assert prod.prefix == "Recs-prod"


def test_defaults_are_weekly_training_and_a_2048_mb_5_concurrency_endpoint():
    config = stage_config_from_context({})
    assert config.stage == "dev"
    assert config.training_schedule == "rate(7 days)"
    assert (config.endpoint_memory_mb, config.endpoint_max_concurrency) == (2048, 5)


def test_command_line_context_overrides_the_stage_and_is_coerced_from_strings():
    config = stage_config_from_context(
        {
            "stage": "dev",
            "stages": STAGES,
            "endpoint_memory_mb": "3072",
            "endpoint_max_concurrency": "12",
            "retain_data": "true",
        }
    )
    assert (config.endpoint_memory_mb, config.endpoint_max_concurrency) == (3072, 12)
    assert config.retain_data is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"endpoint_memory_mb": 2000}, "endpoint_memory_mb 2000"),
        ({"endpoint_memory_mb": "lots"}, "expected an integer"),
        ({"endpoint_max_concurrency": 0}, "endpoint_max_concurrency 0"),
        ({"endpoint_max_concurrency": 201}, "from 1 to 200"),
        ({"training_schedule": "weekly"}, "training_schedule 'weekly'"),
        ({"model_package_group": "Recs_Movielens"}, "model_package_group"),
        ({"model_package_group": "r" * 45}, r"45 characters; use at most 44: .*-serverless"),
        ({"endpoint_name": "e" * 64}, "endpoint_name"),
        ({"retain_data": "maybe"}, "expected true or false"),
        ({"web_repository": "https://github.com/o/r"}, "web_access_token_secret"),
        ({"web_origin": "https://example.com/app"}, "web_origin"),
    ],
)
def test_bad_values_fail_with_a_message_naming_the_setting(overrides, message):
    with pytest.raises(ConfigError, match=message):
        stage_config_from_context({"stage": "dev", **overrides})


def test_unknown_settings_and_bad_stage_names_are_rejected():
    with pytest.raises(ConfigError, match=r"unknown settings \['endpoint_memroy_mb'\]"):
        stage_config_from_context({"stage": "dev", "stages": {"dev": {"endpoint_memroy_mb": 1}}})
    with pytest.raises(ConfigError, match="stage 'Prod!'"):
        StageConfig(stage="Prod!")


def test_the_longest_group_name_allowed_fits_every_name_the_deployer_makes():
    from recs_ml.ops.deployer import MAX_NAME_LENGTH, endpoint_config_name_for, model_name_for

    config = stage_config_from_context({"stage": "dev", "model_package_group": "r" * 44})
    for name in (
        model_name_for(config.model_package_group, 999_999),
        endpoint_config_name_for(config.model_package_group, 999_999),
    ):
        assert len(name) <= MAX_NAME_LENGTH
