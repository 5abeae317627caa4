"""Progress lines: plain output off a terminal, with counts, rate and a closing line."""

import io

from recs_ml.progress import _plain_line, progress


def test_plain_lines_report_count_rate_and_eta() -> None:
    line = _plain_line("train", 50, 100, "examples", elapsed=2.0)
    assert line == "train: 50/100 examples (50%) 25 examples/s ETA 2s"


def test_finished_line_reports_elapsed_time() -> None:
    assert _plain_line("synth", 10, None, "rows", elapsed=4.0) == "synth: 10 rows 2 rows/s in 4.0s"


def test_off_a_terminal_progress_prints_plain_lines_and_a_last_one() -> None:
    out = io.StringIO()
    with progress("read", total=3, unit="rows", stream=out, interval=0.0) as bar:
        for _ in range(3):
            bar.advance()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # one per advance (interval 0) and the closing line
    assert lines[-1].startswith("read: 3/3 rows (100%)")
    assert "in " in lines[-1]
