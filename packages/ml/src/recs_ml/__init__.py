"""recs_ml: data, models, evaluation, pipeline, registry and endpoint.

``data`` reads and splits ratings, ``models`` trains and evaluates them, ``serving`` exports
and serves them, ``pipeline`` runs the steps, ``ops`` holds the registry and the deployer,
``cli`` the ``recs`` command.
"""

import os

# TFRS needs Keras 2. Every module that imports TensorFlow lives in this package, so setting it
# here, before any submodule loads, covers them all; child processes inherit it.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
