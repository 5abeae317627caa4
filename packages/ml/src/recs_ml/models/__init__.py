"""TFRS models: the two-tower sequence retrieval model and the relevance ranking model."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TFRS needs Keras 2: set before TF loads
