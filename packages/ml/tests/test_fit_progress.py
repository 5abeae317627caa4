"""Training progress: one bar (plain lines off a terminal) across a series of fit calls."""

from __future__ import annotations

import numpy as np

from recs_ml.fit_progress import keras_progress
from recs_ml.progress import parse_plain_line


def test_one_bar_counts_every_example_of_every_epoch(capsys):
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((10, 3), np.float32)
    y = np.zeros((10, 1), np.float32)
    callbacks = keras_progress("tiny", epochs=3, examples=10)
    for _ in range(3):  # as training does: one fit call per epoch, the same callbacks
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=callbacks)
    lines = [parse_plain_line(line) for line in capsys.readouterr().err.splitlines()]
    # Off a terminal: a line at most every few seconds, and a closing one after epoch three.
    assert lines[-1] == ("train tiny", 30.0, 30.0, "examples")
    assert all(line is not None and line[2] == 30.0 for line in lines)
    counts = [line[1] for line in lines if line is not None]
    assert counts == sorted(counts)
