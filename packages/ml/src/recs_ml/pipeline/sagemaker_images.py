"""The container images of the SageMaker pipeline: the recs-ml step image and the TF Serving
image that serves a registered model, resolved per region by the sagemaker SDK offline
(``sagemaker`` is the optional extra ``recs-ml[aws]``)."""

from __future__ import annotations

DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
# TensorFlow of the TF Serving image that serves the registered model: the newest SageMaker
# TensorFlow inference image (the SDK's image_uris config), and the minor version training pins
# (packages/ml/pyproject.toml); packages/ml/tests/test_tf_versions.py keeps the two equal.
SERVING_TF_VERSION = "2.20"
# A CPU instance type picks the CPU image (serverless endpoints run on CPU).
INFERENCE_IMAGE_INSTANCE_TYPE = "ml.m5.large"
# The recs-ml step image in the role's account, when image_uris names none.
DEFAULT_STEP_IMAGE = "{account}.dkr.ecr.{region}.amazonaws.com/recs-ml:latest"


def step_images(image_uris: dict[str, str] | None, region: str, role_arn: str) -> dict[str, str]:
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
