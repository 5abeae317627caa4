"""Progress of long steps: a live bar with rate and ETA on a terminal, plain lines in logs.

    with progress("train retrieval", total=n_examples, unit="examples") as bar:
        for batch in batches:
            ...
            bar.advance(len(batch))

On a terminal (stderr is a TTY) this draws a rich progress bar; elsewhere (CI, log files,
pipeline steps) it prints one line at most every `interval` seconds and a last line when done:
`train retrieval: 51,200/100,000 examples (51%) 12,345 examples/s ETA 4s`.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def _plain_line(name: str, done: float, total: float | None, unit: str, elapsed: float) -> str:
    rate = done / elapsed if elapsed > 0 else 0.0
    line = f"{name}: {done:,.0f}"
    if total:
        line += f"/{total:,.0f} {unit} ({100 * done / total:.0f}%)"
    else:
        line += f" {unit}"
    line += f" {rate:,.0f} {unit}/s"
    if total and rate > 0 and done < total:
        line += f" ETA {(total - done) / rate:,.0f}s"
    elif done and (not total or done >= total):
        line += f" in {elapsed:,.1f}s"
    return line


class Progress:
    """Counts work done; reports it live on a terminal or as periodic plain lines."""

    def __init__(
        self,
        name: str,
        total: float | None,
        unit: str,
        *,
        stream: TextIO,
        live: bool,
        interval: float,
    ) -> None:
        self.name, self.total, self.unit = name, total, unit
        self.done = 0.0
        self._stream, self._interval = stream, interval
        self._start = self._last = time.monotonic()
        self._rich = None
        self._task = None
        if live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            self._rich.start()
            self._task = self._rich.add_task(name, total=total, rate="")

    def advance(self, amount: float = 1) -> None:
        self.done += amount
        now = time.monotonic()
        elapsed = now - self._start
        if self._rich is not None and self._task is not None:
            rate = self.done / elapsed if elapsed > 0 else 0.0
            self._rich.update(self._task, advance=amount, rate=f"{rate:,.0f} {self.unit}/s")
        elif now - self._last >= self._interval:
            self._last = now
            print(
                _plain_line(self.name, self.done, self.total, self.unit, elapsed),
                file=self._stream,
                flush=True,
            )

    def close(self) -> None:
        elapsed = time.monotonic() - self._start
        if self._rich is not None:
            self._rich.stop()
        else:
            print(
                _plain_line(self.name, self.done, self.total, self.unit, elapsed),
                file=self._stream,
                flush=True,
            )


@contextmanager
def progress(
    name: str,
    total: float | None = None,
    unit: str = "rows",
    *,
    stream: TextIO | None = None,
    interval: float = 5.0,
) -> Iterator[Progress]:
    """Report progress of `name`; live only on a terminal and when RECS_PROGRESS != plain."""
    out = stream if stream is not None else sys.stderr
    live = out.isatty() and os.environ.get("RECS_PROGRESS", "auto") != "plain"
    bar = Progress(name, total, unit, stream=out, live=live, interval=interval)
    try:
        yield bar
    finally:
        bar.close()


_PLAIN_LINE = re.compile(
    r"^(?P<name>.+?): (?P<done>[\d,]+)(?:/(?P<total>[\d,]+))? (?P<unit>\S+)(?: \(\d+%\))? "
    r"[\d,]+ (?P=unit)/s(?: ETA [\d,]+s| in [\d,.]+s)?$"
)


def parse_plain_line(line: str) -> tuple[str, float, float | None, str] | None:
    """(name, done, total, unit) of a plain progress line, None for any other line; lets a
    parent process show its child's progress as a live bar."""
    match = _PLAIN_LINE.match(line.strip())
    if match is None:
        return None
    total = match["total"]
    return (
        match["name"],
        float(match["done"].replace(",", "")),
        float(total.replace(",", "")) if total else None,
        match["unit"],
    )
