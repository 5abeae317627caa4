"""Pipeline step scripts, run as ``python -m recs_ml.steps.<step>`` locally and in SageMaker
containers; every path option defaults to the container's path (docs/contracts.md)."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TFRS needs Keras 2: set before TF loads
