import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The package sets TF_USE_LEGACY_KERAS: import it before any test module imports TensorFlow.
import recs_ml  # noqa: E402, F401
