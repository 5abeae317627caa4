"""What a person does on the web page, against the real endpoint, API and ratings store."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from e2e_support import display_title, screenshot
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.e2e

USER = 42
MOVIES_TO_RATE = ("Toy Story", "Star Wars", "Fargo", "Pulp Fiction", "Godfather, The")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x800", "390x844"])


def picks(page: Page) -> Locator:
    return page.get_by_role("list", name="Recommendations").get_by_role("listitem")


def pick_ids(page: Page) -> list[int]:
    """The movies of the recommendations list, in order (each item carries its movie id)."""
    return [int(item.get_attribute("data-item-id") or 0) for item in picks(page).all()]


def pick(page: Page, item_id: int) -> Locator:
    return page.get_by_role("list", name="Recommendations").locator(f'li[data-item-id="{item_id}"]')


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
    expect(picks(page)).to_have_count(10)
    return page.get_by_role("list", name="Recommendations")


def new_user(stack: Any, ratings: tuple[str, ...] = ()) -> tuple[int, str]:
    """A user created through the API, with ``ratings`` (titles) rated 4 stars; its id and token."""
    created = stack.api_json("/users", {"age": 30})
    user_id, token = created["user_id"], created["token"]
    for title in ratings:
        movie = stack.api_json(f"/movies?query={urllib.parse.quote(title)}&limit=1")["items"][0]
        stack.api_json(
            f"/users/{user_id}/ratings", {"item_id": movie["item_id"], "rating": 4}, token=token
        )
    return user_id, token


def hold_token(page: Page, stack: Any, user_id: int, token: str) -> None:
    """Give the browser the user's token, as if it had created the user."""
    page.goto(stack.web_url + "/models")
    saved = json.dumps([{"userId": user_id, "token": token, "savedAt": 1}])
    page.evaluate("saved => localStorage.setItem('recs.userTokens', saved)", saved)


def is_focused(locator: Locator) -> bool:
    return bool(locator.evaluate("el => el === document.activeElement"))


def tab_to(page: Page, target: Locator, limit: int = 60) -> None:
    """Press Tab until ``target`` has the keyboard focus."""
    for _ in range(limit):
        if is_focused(target):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{limit} presses of Tab never reached {target}")


def test_choosing_a_user_shows_the_apis_ten_recommendations(ui: Page, stack: Any) -> None:
    ui.goto(stack.web_url + "/")
    expect(ui.get_by_text("Choose a user to begin")).to_be_visible()
    picker = ui.get_by_role("combobox", name="User")
    picker.click()
    picker.fill(str(USER))
    ui.get_by_role("option", name=re.compile(rf"^User {USER}\b")).click()
    expect(ui).to_have_url(re.compile(rf"/users/{USER}$"))
    expect(picks(ui)).to_have_count(10)

    answer = stack.api_json(f"/users/{USER}/recommendations?k=10")
    assert answer["fallback"] is False, answer
    assert pick_ids(ui) == answer["movies"]
    for item in answer["items"]:
        expect(pick(ui, item["item_id"])).to_contain_text(f"{round(item['match'] * 100)}% match")
    expect(ui.get_by_text(f"Ranked by {answer['model']['display_name']}")).to_be_visible()
    screenshot(ui, "choose-user")


def test_switching_the_model_changes_the_list(ui: Page, stack: Any) -> None:
    open_user(ui, stack, USER)
    default_ids = pick_ids(ui)

    ui.get_by_role("combobox", name="Model").click()
    ui.get_by_role("option", name=re.compile(r"^Most popular")).click()
    expect(ui).to_have_url(re.compile(r"[?&]model=mostpop$"))
    expect(ui.get_by_text(re.compile(r"^Ranked by Most popular"))).to_be_visible()

    answer = stack.api_json(f"/users/{USER}/recommendations?k=10&model=mostpop")
    want = answer["movies"]
    assert eventually(lambda: pick_ids(ui), want) == want
    assert want != default_ids
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
        shown = display_title(title)
        ui.get_by_role("option", name=re.compile(rf"^{re.escape(shown)}\s*\d{{4}}")).click()
        # A person clicks the fourth star's right half (its left half means 3.5 stars).
        stars = rater.get_by_role("radio", name="4 Stars", exact=True)
        star = rater.locator(f'label[for="{stars.get_attribute("id")}"]')
        box = star.bounding_box()
        assert box is not None
        star.click(position={"x": box["width"] * 0.85, "y": box["height"] / 2})
        expect(stars).to_be_checked()
        rater.get_by_role("button", name="Rate", exact=True).click()
        expect(rater.get_by_role("status")).to_contain_text(f"Rated “{shown}” 4 of 5.")
        # The next movie starts where the last one did: in the search box.
        expect(search).to_be_focused()

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

    expect(picks(ui)).to_have_count(10)
    assert eventually(lambda: pick_ids(ui), answer["movies"]) == answer["movies"]
    screenshot(ui, "new-user")


def test_similar_movies_open_in_a_dialog(ui: Page, stack: Any) -> None:
    open_user(ui, stack, USER)
    first = stack.api_json(f"/users/{USER}/recommendations?k=10")["items"][0]
    title = display_title(first["title"])
    ui.get_by_role("button", name=f"Similar movies to {title}").click()
    dialog = ui.get_by_role("dialog", name=f"Similar movies to {title}")
    expect(dialog).to_be_visible()

    similar = stack.api_json(f"/movies/{first['item_id']}/similar?k=10")["items"]
    assert similar, f"the API found no movie similar to {title}"
    items = dialog.get_by_role("list", name=f"Movies similar to {title}").get_by_role("listitem")
    expect(items).to_have_count(len(similar))
    for row, movie in zip(items.all(), similar, strict=True):
        shown = display_title(movie["title"])
        expect(row).to_contain_text(f"{shown} ({movie['year']})" if movie["year"] else shown)
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
        name = re.compile(rf"^{re.escape(model['display_name'])}\s")
        row = served.locator("tbody tr").filter(has=ui.get_by_role("rowheader", name=name))
        ndcg = model["metrics"]["ndcg@10"]
        expect(row).to_contain_text(f"{ndcg:.3f}")
        expect(row).to_contain_text(model["description"])
        split = {"test": "held-out test split", "validation": "validation split"}
        expect(row).to_contain_text(split[model["metrics_split"]])
    version = models["endpoint"]["version"]
    expect(ui.get_by_text(f"Serving version {version}")).to_be_visible()
    versions = ui.get_by_role("table", name="Registry versions").locator("tbody tr")
    expect(versions).to_have_count(len(models["versions"]))
    expect(versions.filter(has_text=f"v{version}")).to_contain_text("Approved")
    screenshot(ui, "models")


@SIZES
def test_no_accessibility_violations_on_any_page(
    ui: Page, stack: Any, size: dict[str, int]
) -> None:
    """axe finds nothing at all (any impact) on every page, wide and on a phone."""
    ui.set_viewport_size(size)
    created, token = new_user(stack, ratings=("Fargo",))
    hold_token(ui, stack, created, token)
    grid = ui.get_by_role("list", name="Popular movies to rate").get_by_role("listitem")
    pages: list[tuple[str, str, Locator]] = [
        ("landing", "/", ui.get_by_text("Choose a user to begin")),
        ("recommendations", f"/users/{USER}", picks(ui).nth(9)),
        ("onboarding", f"/users/{created}", grid.first),
        ("models", "/models", ui.get_by_role("heading", name="Registry versions")),
        ("new-user", "/new-user", ui.get_by_role("button", name="Create user")),
        ("unknown-user", "/?user=999999", ui.get_by_text("User 999999 does not exist")),
        (
            "bad-model",
            f"/users/{USER}?model=bogus",
            ui.get_by_role("button", name="Use the default model"),
        ),
        ("not-found", "/nowhere", ui.get_by_role("heading", name="Page not found")),
    ]
    found: list[str] = []
    for scenario, path, ready in pages:
        ui.goto(stack.web_url + path)
        expect(ready).to_be_visible()
        ui.wait_for_load_state("networkidle")
        results = Axe().run(ui)
        found += [
            f"{scenario}: {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(str(node["target"][0]) for node in v["nodes"][:3])
            for v in results.response["violations"]
        ]
        screenshot(ui, f"a11y-{scenario}-{size['width']}")
    assert not found, "\n".join(found)


@SIZES
def test_the_reason_line_names_a_movie_the_user_rated(
    ui: Page, stack: Any, size: dict[str, int]
) -> None:
    ui.set_viewport_size(size)
    open_user(ui, stack, USER)
    answer = stack.api_json(f"/users/{USER}/recommendations?k=10")
    rated = {entry["item_id"] for entry in stack.api_json(f"/users/{USER}")["history"]}
    explained = [item for item in answer["items"] if item["because"]]
    assert explained, f"no pick of user {USER} names a rated movie: {answer['items']}"
    for item in answer["items"]:
        reason = pick(ui, item["item_id"]).get_by_test_id("reason")
        because = item["because"]
        if because:
            assert because["item_id"] in rated, because
            title, stars = display_title(because["title"]), f"{because['rating']:.1f} ★"
            expect(reason).to_have_text(f"Because you rated {title} {stars}")
        else:
            expect(reason).not_to_contain_text("Because you rated")
    screenshot(ui, f"reasons-{size['width']}")


@SIZES
def test_not_interested_removes_the_pick_for_good(
    ui: Page, stack: Any, size: dict[str, int]
) -> None:
    ui.set_viewport_size(size)
    user_id, token = new_user(stack, ratings=("Toy Story", "Star Wars", "Fargo"))
    hold_token(ui, stack, user_id, token)
    open_user(ui, stack, user_id, "?model=mostpop")
    first = stack.api_json(f"/users/{user_id}/recommendations?k=10&model=mostpop", token=token)
    item = first["items"][0]
    row = pick(ui, item["item_id"])
    button = row.get_by_role("button", name=f"Not interested in {display_title(item['title'])}")
    if size is PHONE:
        # Every control of a pick is a finger-sized target on a phone.
        for target in row.get_by_role("button").all():
            box = target.bounding_box()
            assert box and box["height"] >= 44 and box["width"] >= 44, (target, box)
    button.click()
    expect(row).to_have_count(0)
    notice = ui.get_by_role("status").filter(has_text="will not be recommended again")
    expect(notice).to_be_visible()

    ui.reload()
    expect(picks(ui)).to_have_count(10)
    assert item["item_id"] not in pick_ids(ui)
    ui.get_by_role("combobox", name="Model").click()
    ui.get_by_role("option", name=re.compile(r"\(default\)")).click()
    expect(ui).to_have_url(re.compile(rf"/users/{user_id}$"))
    expect(picks(ui)).to_have_count(10)
    assert item["item_id"] not in pick_ids(ui)
    # No served model recommends it again, however far down the list.
    for model in stack.api_json("/models")["models"]:
        answer = stack.api_json(
            f"/users/{user_id}/recommendations?k=50&model={model['name']}", token=token
        )
        assert item["item_id"] not in answer["movies"], model["name"]
    screenshot(ui, f"not-interested-{size['width']}")


@SIZES
def test_a_new_user_reaches_ten_recommendations_from_the_onboarding_grid(
    ui: Page, stack: Any, size: dict[str, int]
) -> None:
    ui.set_viewport_size(size)
    ui.goto(stack.web_url + "/new-user")
    ui.get_by_role("button", name="Create user").click()
    expect(ui).to_have_url(re.compile(r"/users/\d+$"))
    user_id = int(ui.url.rsplit("/", 1)[1])
    grid = ui.get_by_role("list", name="Popular movies to rate")
    if size is PHONE:
        # The grid is what a new user sees first, near the top of the phone's screen.
        box = grid.bounding_box()
        assert box is not None and box["y"] < 2 * size["height"], box
    for rated in range(1, 6):
        card = grid.get_by_role("listitem").first
        title = card.get_by_role("heading").inner_text()
        # A plain click on the radio (see packages/web/README.md on MUI's Rating).
        card.get_by_role("radio", name="4 Stars", exact=True).dispatch_event("click")
        expect(ui.get_by_text(f"{rated} rated so far")).to_be_visible()
        expect(grid.get_by_role("heading", name=title, exact=True)).to_have_count(0)

    saved = json.loads(ui.evaluate("() => localStorage.getItem('recs.userTokens')") or "[]")
    token = next(entry["token"] for entry in saved if entry["userId"] == user_id)
    answer = stack.api_json(f"/users/{user_id}/recommendations?k=10", token=token)
    assert answer["fallback"] is False, answer
    assert len(answer["movies"]) == 10
    expect(picks(ui)).to_have_count(10)
    assert eventually(lambda: pick_ids(ui), answer["movies"]) == answer["movies"]
    expect(ui.get_by_text(re.compile("has not rated anything yet"))).to_have_count(0)
    screenshot(ui, f"onboarding-{size['width']}")


def test_filters_return_only_matching_movies(ui: Page, stack: Any) -> None:
    open_user(ui, stack, USER)
    ui.get_by_role("group", name="Genres to show").get_by_role("button", name="Comedy").click()
    ui.get_by_role("textbox", name="From year").fill("1990")
    ui.get_by_role("textbox", name="To year").fill("1995")
    expect(ui).to_have_url(re.compile(r"\?genres=Comedy&from=1990&to=1995$"))
    answer = stack.api_json(
        f"/users/{USER}/recommendations?k=10&genres=Comedy&year_min=1990&year_max=1995"
    )
    assert len(answer["items"]) == 10, answer
    for item in answer["items"]:
        assert "Comedy" in item["genres"] and 1990 <= item["year"] <= 1995, item
    assert eventually(lambda: pick_ids(ui), answer["movies"]) == answer["movies"]

    ui.get_by_role("button", name="Show more").click()
    expect(picks(ui)).to_have_count(20)
    more = stack.api_json(
        f"/users/{USER}/recommendations?k=10&offset=10&genres=Comedy&year_min=1990&year_max=1995"
    )
    assert pick_ids(ui) == answer["movies"] + more["movies"]
    for item in more["items"]:
        assert "Comedy" in item["genres"] and 1990 <= item["year"] <= 1995, item
    screenshot(ui, "filters")


def test_the_main_flow_works_with_the_keyboard_alone(ui: Page, stack: Any) -> None:
    ui.goto(stack.web_url + "/")
    expect(ui.get_by_text("Choose a user to begin")).to_be_visible()
    ui.keyboard.press("Tab")
    skip = ui.get_by_role("link", name="Skip to the main content")
    expect(skip).to_be_focused()
    ui.keyboard.press("Enter")
    expect(ui.get_by_role("main")).to_be_focused()

    picker = ui.get_by_role("combobox", name="User")
    tab_to(ui, picker)
    ui.keyboard.type(str(USER))
    expect(ui.get_by_role("option", name=re.compile(rf"^User {USER}\b"))).to_be_visible()
    ui.keyboard.press("ArrowDown")
    ui.keyboard.press("Enter")
    expect(ui).to_have_url(re.compile(rf"/users/{USER}$"))
    expect(picks(ui)).to_have_count(10)

    model = ui.get_by_role("combobox", name="Model")
    tab_to(ui, model)
    ui.keyboard.press("Enter")
    expect(ui.get_by_role("listbox")).to_be_visible()
    most_popular = ui.get_by_role("option", name=re.compile("^Most popular"))
    # The open list has the chosen model focused; Home goes to the first, the arrows down.
    expect(ui.get_by_role("option", selected=True)).to_be_focused()
    ui.keyboard.press("Home")
    for _ in range(12):
        if is_focused(most_popular):
            break
        ui.keyboard.press("ArrowDown")
        ui.wait_for_timeout(250)
    focused = ui.evaluate("document.activeElement?.outerHTML.slice(0, 160)")
    assert is_focused(most_popular), focused
    ui.keyboard.press("Enter")
    expect(ui).to_have_url(re.compile(r"model=mostpop$"))
    expect(ui.get_by_text(re.compile(r"^Ranked by Most popular"))).to_be_visible()

    # A user of this browser rates with the keyboard; the focus comes back to the search.
    user_id, token = new_user(stack, ratings=("Star Wars",))
    hold_token(ui, stack, user_id, token)
    ui.goto(f"{stack.web_url}/users/{user_id}")
    rater = ui.get_by_role("form", name="Rate a movie")
    search = rater.get_by_role("combobox", name="Search movies")
    tab_to(ui, search, limit=200)
    ui.keyboard.type("Fargo")
    expect(ui.get_by_role("option", name=re.compile(r"^Fargo"))).to_be_visible()
    ui.keyboard.press("ArrowDown")
    ui.keyboard.press("Enter")
    ui.keyboard.press("Tab")
    for _ in range(8):  # 0.5 stars a press
        ui.keyboard.press("ArrowRight")
    expect(rater.get_by_role("radio", name="4 Stars", exact=True)).to_be_checked()
    tab_to(ui, rater.get_by_role("button", name="Rate", exact=True), limit=5)
    ui.keyboard.press("Enter")
    expect(rater.get_by_role("status")).to_contain_text("Rated “Fargo” 4 of 5.")
    expect(search).to_be_focused()

    # A pick's own stars: the arrows choose, Enter saves, and the pick leaves the list.
    expect(picks(ui)).to_have_count(10)
    first = picks(ui).first
    item_id = first.get_attribute("data-item-id")
    stars = first.get_by_role("radiogroup")
    title = (stars.get_attribute("aria-label") or "").removeprefix("Rate ")
    tab_to(ui, stars.locator("input[type=radio]:checked"), limit=200)
    for _ in range(8):
        ui.keyboard.press("ArrowRight")
    expect(stars).to_contain_text("4 ★ · Enter to save")
    ui.keyboard.press("Enter")
    expect(ui.get_by_role("status").filter(has_text=f"Rated “{title}” 4 of 5.")).to_be_visible()
    expect(pick(ui, int(item_id or 0))).to_have_count(0)
    screenshot(ui, "keyboard")


def test_with_the_api_stopped_the_page_shows_an_error_and_recovers_on_retry(
    ui: Page, stack: Any
) -> None:
    stack.api_server.stop()
    try:
        ui.goto(f"{stack.web_url}/users/{USER}")
        alert = ui.get_by_role("alert").filter(has_text="The API is unreachable").first
        expect(alert).to_be_visible()
        expect(alert).to_contain_text(stack.api_url)
        screenshot(ui, "api-down")
    finally:
        stack.api_server.start()
    # One press brings back the whole page: no view is left showing a stale error.
    ui.get_by_role("button", name="Retry").first.click()
    expect(picks(ui)).to_have_count(10)
    expect(ui.get_by_text(re.compile("cannot be reached"))).to_have_count(0)
    expect(ui.get_by_role("button", name="Retry")).to_have_count(0)
    answer = stack.api_json(f"/users/{USER}/recommendations?k=10")
    assert pick_ids(ui) == answer["movies"]
    screenshot(ui, "api-recovered")
