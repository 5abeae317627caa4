"""What the ``recs`` commands print: tables for a person, JSON (``--json``) for scripts."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

# Wide enough that a movie title does not wrap in a log file or a pipe.
PLAIN_WIDTH = 200


def print_json(data: Any, stream: TextIO | None = None) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str), file=stream or sys.stdout)


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    right: Sequence[str] = (),
    stream: TextIO | None = None,
) -> None:
    """A table with a header row; cells are shown as plain text (no rich markup), None as
    an empty cell, and the columns named in ``right`` are right-aligned."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = stream or sys.stdout
    live = out.isatty()
    buffer = io.StringIO()
    console = Console(
        file=out if live else buffer, width=None if live else PLAIN_WIDTH, highlight=False
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left")
    for row in rows:
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    if title:
        console.print(Text(title))
    console.print(table)
    if not live:
        # Off a terminal: no padding to the console width at the end of lines.
        out.write("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n")


def metric(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "-"
