"""What the end-to-end tests share besides fixtures: where artifacts go, screenshots."""

from __future__ import annotations

import re
from pathlib import Path

from harness import REPO
from playwright.sync_api import Page

ARTIFACTS = REPO / "test-results" / "e2e"


def screenshot(page: Page, scenario: str, *, full_page: bool = True) -> Path:
    """Save what a person sees at the end of a scenario as ``test-results/e2e/<scenario>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{scenario}.png"
    # From the top, so the sticky header sits where a person sees it, not mid-page.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    return path


# The web page shows MovieLens's "Rock, The" article first (packages/web/src/format.ts).
_TRAILING_ARTICLE = re.compile(r"^(.+?), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)( \(.*\))?$")


def display_title(title: str) -> str:
    """A title as the page shows it: "Rock, The" -> "The Rock"."""
    match = _TRAILING_ARTICLE.match(title)
    if not match:
        return title
    rest, article, tail = match.group(1), match.group(2), match.group(3) or ""
    return f"{article}{'' if article.endswith(chr(39)) else ' '}{rest}{tail}"
