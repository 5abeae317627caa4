"""Progress of a training series (``recs_ml.training.FitProgress``) as a Keras callback:
a live bar with rate and ETA on a terminal, plain lines in logs (``recs_ml.progress``)."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any


def keras_progress(stage: str, epochs: int, examples: int) -> list[Any]:
    """One callback for ``epochs`` successive ``fit`` calls of ``examples`` examples each."""
    import tensorflow as tf

    from recs_ml.progress import Progress, progress

    class FitProgressCallback(tf.keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0  # epochs finished, across fit calls
            self._stack = ExitStack()
            self._bar: Progress | None = None

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            if self._bar is None:
                self._bar = self._stack.enter_context(
                    progress(f"train {stage}", total=epochs * examples, unit="examples")
                )

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            steps = (self.params or {}).get("steps")
            if self._bar is None or not steps:
                return
            within = min(examples, round((batch + 1) * examples / steps))
            self._bar.advance(self.epoch * examples + within - self._bar.done)

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            self.epoch += 1
            if self._bar is None:
                return
            self._bar.advance(self.epoch * examples - self._bar.done)
            if self.epoch >= epochs:
                self._stack.close()
                self._bar = None

    return [FitProgressCallback()]
