"""What ``recs pipeline run`` prints while the steps run.

Each step is a child process whose output is not a terminal, so its long loops report plain
progress lines (``recs_ml.progress``). Off a terminal those lines pass through unchanged (logs,
CI); on one they drive a live bar with rate and ETA, and every other line prints above it.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from typing import TextIO

from recs_ml.progress import Progress, parse_plain_line, progress


class StepOutput:
    """The ``echo`` of :func:`recs_ml.pipeline.runner.run_pipeline` for a person or a log."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        if live is None:
            live = sys.stderr.isatty() and os.environ.get("RECS_PROGRESS", "auto") != "plain"
        self.live = live
        self._stack = ExitStack()
        self._bar: Progress | None = None
        self._key: tuple[str, str] | None = None

    def __call__(self, line: str) -> None:
        parsed = self._progress_of(line) if self.live else None
        if parsed is None:
            print(line, file=self.stream, flush=True)
            return
        step, (name, done, total, unit) = parsed
        if (step, name) != self._key or self._bar is None:
            self.close()
            self._key = (step, name)
            self._bar = self._stack.enter_context(progress(f"{step}: {name}", total, unit))
        self._bar.advance(done - self._bar.done)
        if total and done >= total:
            self.close()

    @staticmethod
    def _progress_of(line: str) -> tuple[str, tuple[str, float, float | None, str]] | None:
        if not line.startswith("[") or "] " not in line:
            return None
        step, _, rest = line[1:].partition("] ")
        parsed = parse_plain_line(rest)
        return (step, parsed) if parsed else None

    def close(self) -> None:
        """End the live bar, if one is showing."""
        self._stack.close()
        self._bar, self._key = None, None
