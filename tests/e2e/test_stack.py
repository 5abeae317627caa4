"""What a person does on the web page, against the real endpoint, API and ratings store."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from e2e_support import screenshot
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.e2e

USER = 42
MOVIES_TO_RATE = ("Toy Story", "Star Wars", "Fargo", "Pulp Fiction", "Godfather, The")


def recommendation_titles(page: Page) -> list[str]:
    rows = page.get_by_role("table", name="Recommendations").locator("tbody tr")
    return [row.locator("th span").first.inner_text().strip() for row in rows.all()]


def eventually(read: Callable[[], Any], want: Any, timeout: float = 30.0) -> Any:
    """Poll ``read()`` until it equals ``want``; return the last value either way."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != want and time.monotonic() < deadline:
        time.sleep(0.25)
        value = read()
    return value


def open_user(page: Page, stack: Any, user_id: int, query: str = "") -> Locator:
    page.goto(f"{stack.web_url}/users/{user_id}{query}")
    table = page.get_by_role("table", name="Recommendations")
    expect(table.locator("tbody tr")).to_have_count(10)
    return table


def test_choosing_a_user_shows_the_apis_ten_recommendations(ui: Page, stack: Any) -> None:
    ui.goto(stack.web_url + "/")
    expect(ui.get_by_text("Choose a user to begin")).to_be_visible()
    picker = ui.get_by_role("combobox", name="User")
    picker.click()
    picker.fill(str(USER))
    ui.get_by_role("option", name=re.compile(rf"^User {USER}\b")).click()
    expect(ui).to_have_url(re.compile(rf"/users/{USER}$"))
    rows = ui.get_by_role("table", name="Recommendations").locator("tbody tr")
    expect(rows).to_have_count(10)

    answer = stack.api_json(f"/users/{USER}/recommendations?k=10")
    assert answer["fallback"] is False, answer
    assert recommendation_titles(ui) == [item["title"] for item in answer["items"]]
    expect(ui.get_by_text(f"Ranked by {answer['model']['name']}")).to_be_visible()
    screenshot(ui, "choose-user")


def test_switching_the_model_changes_the_list(ui: Page, stack: Any) -> None:
    open_user(ui, stack, USER)
    default_titles = recommendation_titles(ui)

    ui.get_by_role("combobox", name="Model").click()
    ui.get_by_role("option", name=re.compile(r"^mostpop\b")).click()
    expect(ui).to_have_url(re.compile(r"[?&]model=mostpop$"))
    expect(ui.get_by_text(re.compile(r"^Ranked by mostpop"))).to_be_visible()

    answer = stack.api_json(f"/users/{USER}/recommendations?k=10&model=mostpop")
    want = [item["title"] for item in answer["items"]]
    assert eventually(lambda: recommendation_titles(ui), want) == want
    assert want != default_titles
    screenshot(ui, "switch-model")


def test_a_new_user_rates_five_movies_and_gets_recommendations_without_them(
    ui: Page, stack: Any
) -> None:
    ui.goto(stack.web_url + "/")
    ui.get_by_role("link", name="New user", exact=True).click()
    expect(ui.get_by_role("heading", name="New user")).to_be_visible()
    ui.get_by_label("Age").fill("31")
    ui.get_by_role("combobox", name="Occupation").click()
    ui.get_by_role("option", name="engineer", exact=True).click()
    ui.get_by_role("button", name="Create user").click()
    expect(ui).to_have_url(re.compile(r"/users/\d+$"))
    user_id = int(ui.url.rsplit("/", 1)[1])
    expect(ui.get_by_text(f"User {user_id} is ready.")).to_be_visible()

    rater = ui.get_by_role("form", name="Rate a movie")
    for title in MOVIES_TO_RATE:
        search = rater.get_by_role("combobox", name="Search movies")
        search.fill(title)
        ui.get_by_role("option", name=re.compile(rf"^{re.escape(title)}\s*\d{{4}}")).click()
        # A person clicks the fourth star's right half (its left half means 3.5 stars).
        stars = rater.get_by_role("radio", name="4 Stars", exact=True)
        star = rater.locator(f'label[for="{stars.get_attribute("id")}"]')
        box = star.bounding_box()
        assert box is not None
        star.click(position={"x": box["width"] * 0.85, "y": box["height"] / 2})
        expect(stars).to_be_checked()
        rater.get_by_role("button", name="Rate", exact=True).click()
        expect(rater.get_by_role("status")).to_contain_text(f"Rated “{title}” 4 of 5.")

    # The page keeps the token the API returned once; the user is private without it.
    saved = json.loads(ui.evaluate("() => localStorage.getItem('recs.userTokens')") or "[]")
    token = next(entry["token"] for entry in saved if entry["userId"] == user_id)
    user = stack.api_json(f"/users/{user_id}", token=token)
    assert sorted(entry["title"] for entry in user["history"]) == sorted(MOVIES_TO_RATE)
    answer = stack.api_json(f"/users/{user_id}/recommendations?k=10", token=token)
    assert answer["fallback"] is False, answer
    rated = {entry["item_id"] for entry in user["history"]}
    assert len(answer["movies"]) == 10
    assert rated.isdisjoint(answer["movies"])

    want = [item["title"] for item in answer["items"]]
    rows = ui.get_by_role("table", name="Recommendations").locator("tbody tr")
    expect(rows).to_have_count(10)
    assert eventually(lambda: recommendation_titles(ui), want) == want
    assert set(want).isdisjoint(MOVIES_TO_RATE)
    screenshot(ui, "new-user")


def test_similar_movies_open_in_a_dialog(ui: Page, stack: Any) -> None:
    open_user(ui, stack, USER)
    first = stack.api_json(f"/users/{USER}/recommendations?k=10")["items"][0]
    ui.get_by_role("button", name=f"Similar movies to {first['title']}").click()
    dialog = ui.get_by_role("dialog", name=f"Similar movies to {first['title']}")
    expect(dialog).to_be_visible()

    similar = stack.api_json(f"/movies/{first['item_id']}/similar?k=10")["items"]
    assert similar, f"the API found no movie similar to {first['title']}"
    items = dialog.get_by_role("list", name=f"Movies similar to {first['title']}").get_by_role(
        "listitem"
    )
    expect(items).to_have_count(len(similar))
    for row, movie in zip(items.all(), similar, strict=True):
        label = f"{movie['title']} ({movie['year']})" if movie["year"] else movie["title"]
        expect(row).to_contain_text(label)
    screenshot(ui, "similar-movies", full_page=False)  # a modal covers the viewport only
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_the_models_page_shows_the_served_models_metrics(ui: Page, stack: Any) -> None:
    ui.goto(stack.web_url + "/")
    ui.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
    expect(ui).to_have_url(re.compile(r"/models$"))
    models = stack.api_json("/models")
    assert models["endpoint"]["status"] == "ok", models
    served = ui.get_by_role("table", name="Served models")
    expect(served.locator("tbody tr")).to_have_count(len(models["models"]))
    for model in models["models"]:
        row = served.locator("tbody tr").filter(
            has=ui.get_by_role("rowheader", name=re.compile(rf"^{re.escape(model['name'])}\b"))
        )
        ndcg = model["metrics"]["ndcg@10"]
        expect(row).to_contain_text(f"{ndcg:.3f}")
    version = models["endpoint"]["version"]
    expect(ui.get_by_text(f"Serving version {version}")).to_be_visible()
    versions = ui.get_by_role("table", name="Registry versions").locator("tbody tr")
    expect(versions).to_have_count(len(models["versions"]))
    expect(versions.filter(has_text=f"v{version}")).to_contain_text("Approved")
    screenshot(ui, "models")


@pytest.mark.parametrize(
    ("scenario", "path", "ready"),
    [
        ("a11y-recommendations", f"/users/{USER}", "Recommendations"),
        ("a11y-models", "/models", "Served models"),
        ("a11y-new-user", "/new-user", None),
    ],
)
def test_no_serious_accessibility_violations(
    ui: Page, stack: Any, scenario: str, path: str, ready: str | None
) -> None:
    ui.goto(stack.web_url + path)
    if ready:
        expect(ui.get_by_role("table", name=ready).locator("tbody tr").first).to_be_visible()
    else:
        expect(ui.get_by_role("button", name="Create user")).to_be_visible()
    results = Axe().run(ui)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    screenshot(ui, scenario)
    assert not serious, "\n".join(serious)


def test_with_the_api_stopped_the_page_shows_an_error_and_recovers_on_retry(
    ui: Page, stack: Any
) -> None:
    stack.api.stop()
    try:
        ui.goto(f"{stack.web_url}/users/{USER}")
        alert = ui.get_by_role("alert").filter(has_text="The API is unreachable").first
        expect(alert).to_be_visible()
        expect(alert).to_contain_text(stack.api_url)
        screenshot(ui, "api-down")
    finally:
        stack.api.start()
    # One press brings back the whole page: no view is left showing a stale error.
    ui.get_by_role("button", name="Retry").first.click()
    expect(ui.get_by_role("table", name="Recommendations").locator("tbody tr")).to_have_count(10)
    expect(ui.get_by_text(re.compile("cannot be reached"))).to_have_count(0)
    expect(ui.get_by_role("button", name="Retry")).to_have_count(0)
    answer = stack.api_json(f"/users/{USER}/recommendations?k=10")
    assert recommendation_titles(ui) == [item["title"] for item in answer["items"]]
    screenshot(ui, "api-recovered")
