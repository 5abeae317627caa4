"""``recs pipeline schedule``: the weekly retraining run as a cron line.

On AWS an EventBridge rule starts the SageMaker pipeline with ``WEEKLY_SCHEDULE`` (Mondays
03:00 UTC); locally the same time as a crontab entry runs ``recs pipeline run``, which picks
up every rating people added through the API since the last run.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess

from recs_ml.settings import get_settings, repo_root

WEEKLY_SCHEDULE = "cron(0 3 ? * MON *)"  # EventBridge: minute hour day-of-month month dow year
CRON_SCHEDULE = "0 3 * * 1"  # the same instant for cron (which runs in the machine's TZ)
MARKER = "# recs-pipeline-weekly"


def cron_line(data: str = "ml-100k") -> str:
    """``CRON_TZ=UTC`` keeps cron on the same clock as EventBridge."""
    settings = get_settings()
    root = repo_root()
    log = settings.home / "logs" / "pipeline-cron.log"
    workdir = shlex.quote(str(root)) if root else "."
    command = (
        f"cd {workdir} && RECS_HOME={shlex.quote(str(settings.home))} "
        f"uv run --frozen --no-sync recs pipeline run --data {shlex.quote(data)} "
        f">> {shlex.quote(str(log))} 2>&1"
    )
    prepare = f"mkdir -p {shlex.quote(str(log.parent))}"
    return f"CRON_TZ=UTC\n{CRON_SCHEDULE} {prepare} && {command} {MARKER}"


def install(line: str) -> str:
    """Add (or replace) the entry in the current user's crontab."""
    crontab = shutil.which("crontab")
    if crontab is None:
        raise FileNotFoundError(
            "crontab is not installed; add this line with your scheduler instead:\n" + line
        )
    current = subprocess.run([crontab, "-l"], capture_output=True, text=True)
    kept = [
        existing
        for existing in (current.stdout.splitlines() if current.returncode == 0 else [])
        if MARKER not in existing and existing.strip() != "CRON_TZ=UTC"
    ]
    new = "\n".join([*kept, line]) + "\n"
    result = subprocess.run([crontab, "-"], input=new, capture_output=True, text=True)
    if result.returncode != 0:
        raise ValueError(f"crontab refused the entry: {result.stderr.strip()}")
    return f"installed the weekly pipeline run ({CRON_SCHEDULE} UTC, {WEEKLY_SCHEDULE} on AWS)"
