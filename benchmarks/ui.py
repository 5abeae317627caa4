"""Choosing a user on the web page → the first recommendation on screen, timed in Chromium.

Starts the local stack on loopback in a scratch RECS_HOME as `api.py` does (the store seeded
from MovieLens-100K, `recs serve` on the newest approved registry version or the stand-in
model, `chalice local`), builds the page with `vite build` for that API and serves it with
`vite preview`. Playwright then drives Debian's Chromium (`CHROMIUM_PATH`): for each of N
dataset users, open `/`, type the user id in the user box, click the user's option, and wait
for the first item of the "Recommendations" list — the whole path a person waits through: the
page's requests, the API, the endpoint and the rendering. Each user is chosen once, so no
answer comes from a cache. Done at 1280×800 and at 390×844. Target (issue 21): p95 ≤ 400 ms.

The time is taken in the page (``PAGE_CLOCK``): from the option's ``pointerdown`` event, when
the press reaches the page, to the frame after the first pick is in the document, once it
has been painted. Playwright's own wall clock around ``click()`` is reported beside it: it also
holds the automation's work before the press (scrolling, waiting for the option to stand
still, hit-testing: about 50–70 ms here) and the polling that notices the pick, which no
person waits through.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from api import prepare_home
from common import argument_parser, markdown_table, percentiles, publish
from harness import scratch_stack

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
VIEWPORTS = {"1280x800": {"width": 1280, "height": 800}, "390x844": {"width": 390, "height": 844}}
TARGET_P95_MS = 400.0
# Marks in page time: the press on the option, and the frame after the first pick appeared.
PAGE_CLOCK = """
document.addEventListener('pointerdown', (event) => { window.__pressedAt = event.timeStamp }, true);
new MutationObserver((_, observer) => {
  if (window.__pressedAt === undefined) return;
  if (!document.querySelector('ol[aria-label="Recommendations"] li')) return;
  observer.disconnect();
  requestAnimationFrame(() => setTimeout(() => { window.__shownAt = performance.now() }, 0));
}).observe(document, { subtree: true, childList: true });
"""


def time_choices(
    web_url: str, users: list[int], viewport: dict[str, int]
) -> dict[str, list[float]]:
    """Per user, milliseconds from the press on the option to its first pick painted (the page's
    clock), Playwright's wall clock around the same, and the recommendations request alone (the
    browser's resource timing)."""
    from playwright.sync_api import expect, sync_playwright

    timings: dict[str, list[float]] = {"page": [], "wall": [], "request": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
        page.add_init_script(PAGE_CLOCK)
        first_pick = page.get_by_role("list", name="Recommendations").get_by_role("listitem")
        for user_id in users:
            page.goto(web_url + "/")
            picker = page.get_by_role("combobox", name="User")
            picker.click()
            picker.fill(str(user_id))
            option = page.get_by_role("option", name=re.compile(rf"^User {user_id}\b"))
            expect(option.first).to_be_visible(timeout=30_000)
            started = time.perf_counter()
            option.first.click()
            first_pick.first.wait_for(state="visible", timeout=30_000)
            timings["wall"].append((time.perf_counter() - started) * 1000)
            if not page.url.endswith(f"/users/{user_id}"):
                raise SystemExit(f"choosing user {user_id} led to {page.url}")
            page.wait_for_function("window.__shownAt !== undefined", timeout=30_000)
            timings["page"].append(float(page.evaluate("window.__shownAt - window.__pressedAt")))
            timings["request"].append(
                float(
                    page.evaluate(
                        "path => Math.max(0, ...performance.getEntriesByType('resource')"
                        ".filter(e => e.name.includes(path)).map(e => e.duration))",
                        f"/users/{user_id}/recommendations",
                    )
                )
            )
        browser.close()
    return timings


def main() -> int:
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=None, help="users timed per screen size")
    args = parser.parse_args()
    count = args.users or (15 if args.quick else 60)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium")
    with scratch_stack("recs-bench-ui-") as stack:
        print(f"+ vite build (VITE_API_URL={stack.api_url})", flush=True)
        build = stack.build_web(stack.home / "dist")
        model = prepare_home(stack.home, stack.env)
        stack.start()
        stack.start_web(build.wait())
        web_url = stack.web_url

        # Distinct users per screen size: every choice asks the API and the endpoint afresh.
        figures: dict[str, object] = {"endpoint_model": model, "users_per_size": count,
                                      "target_p95_ms": TARGET_P95_MS}  # fmt: skip
        rows = []
        for index, (label, viewport) in enumerate(VIEWPORTS.items()):
            users = list(range(1 + index * count, 1 + (index + 1) * count))
            timings = time_choices(web_url, users, viewport)
            samples = timings["page"]
            stats = percentiles(samples, (50, 95))
            wall = percentiles(timings["wall"], (50, 95))
            api = percentiles(timings["request"], (50, 95))
            result = {"p50_ms": round(stats["p50"], 1), "p95_ms": round(stats["p95"], 1),
                      "max_ms": round(max(samples), 1), "samples": len(samples),
                      "playwright_p50_ms": round(wall["p50"], 1),
                      "playwright_p95_ms": round(wall["p95"], 1),
                      "recommendations_request_p50_ms": round(api["p50"], 1),
                      "recommendations_request_p95_ms": round(api["p95"], 1),
                      "meets_target": stats["p95"] <= TARGET_P95_MS}  # fmt: skip
            figures[label] = result
            met = "yes" if result["meets_target"] else "**no**"
            rows.append([label, len(samples), result["p50_ms"], result["p95_ms"],
                         result["max_ms"], result["playwright_p50_ms"],
                         result["playwright_p95_ms"], result["recommendations_request_p50_ms"],
                         result["recommendations_request_p95_ms"], met])  # fmt: skip
        table = markdown_table(
            [
                "screen",
                "users",
                "p50 ms",
                "p95 ms",
                "max ms",
                "Playwright p50 ms",
                "Playwright p95 ms",
                "API request p50 ms",
                "API request p95 ms",
                f"p95 ≤ {TARGET_P95_MS:.0f} ms",
            ],
            rows,
        )
        markdown = (
            "## Web page: choosing a user → first recommendation visible (Chromium)\n\n"
            f"Playwright in headless Chromium against `vite preview` (production build), "
            f"`chalice local` (SQLite store) and `recs serve` ({model}), all on loopback; from "
            "the press on the user's option to the first pick painted, in the page's clock, "
            'each user chosen once; "Playwright" is the automation\'s wall clock around the '
            'same click (with its own work before the press and its polling after); "API '
            'request" is the recommendations request alone (resource timing). '
            f"Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
            f"(timings on a shared machine are upper bounds).\n\n{table}\n"
        )
        publish("ui", figures, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
