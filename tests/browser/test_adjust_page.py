"""A dispatcher adjusts a plan by hand in Chromium: move, see what breaks, lock two, re-optimise.

The day is the tiny hand-checkable day of ``tests/api/test_adjust.py`` (one office, couriers c1
and c2, P1 08:00–09:00, P2 08:00–12:00, R1 09:00–11:00), planned for today with every job
locked to c1. Screenshots of each step are kept under ``test-artifacts/browser/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session

import tracking
from tests.api.test_adjust import tiny_day
from tests.browser.conftest import Day, open_context, screenshot, watch_page
from tests.support.server import serve, sqlite_url


@pytest.fixture(scope="module")
def adjust_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    """A server on a SQLite file with dispatcher d1 and the tiny day planned, all on c1, then
    every lock taken off (a new plan with the same routes)."""
    url = sqlite_url(tmp_path_factory.mktemp("adjust-browser-db"))
    with serve(url) as server:
        engine = tracking.make_engine(url)
        tokens = {}
        with Session(engine) as session:
            for name, role in (("d1", "dispatcher"), ("c1", "courier"), ("c2", "courier")):
                _, tokens[name] = tracking.create_user(session=session, name=name, role=role)
            session.commit()
        engine.dispose()
        request = tiny_day("page", {"P1": "c1", "P2": "c1", "R1": "c1"})
        headers = {"Authorization": f"Bearer {tokens['d1']}"}
        with httpx.Client(base_url=server.base_url, timeout=120, headers=headers) as client:
            answer = client.post("/v1/plans", json=request)
            assert answer.status_code == 201, answer.text
            # The same routes with no lock: the page locks two of them itself.
            unlock = {"jobs": ["P1", "P2", "R1"], "unlock": True}
            answer = client.post(f"/v1/plans/{answer.json()['plan_id']}/locks", json=unlock)
            assert answer.status_code == 201, answer.text
        yield Day(server, tokens, request["date"], answer.json(), request, "c1", ())


def lane_jobs(page: Any, courier: str) -> list[str]:
    """The jobs of a courier's pickups and deliveries on the page, in order."""
    jobs: list[str] = page.locator(f'.lane[data-courier="{courier}"] li[data-job]').evaluate_all(
        "items => items.map(i => i.dataset.job)"
    )
    return jobs


def act(page: Any, do: Any) -> str:
    """Run an action that opens the next plan's page; return the new plan's id."""
    before = page.url
    with page.expect_navigation(url=lambda url: url != before and url.endswith("/adjust")):
        do()
    return str(page.url.rsplit("/", 2)[-2])


def test_move_lock_two_and_reoptimise(browser: Any, adjust_day: Day) -> None:
    """Each action opens the new plan; a move that makes P1 late is shown in red, first."""
    context, watch = open_context(browser, adjust_day, "d1")
    page = watch_page(context, watch)
    first = adjust_day.plan["plan_id"]
    page.goto(f"{adjust_day.base_url}/plans/{first}/adjust")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "Điều chỉnh kế hoạch" in page.locator("h1").inner_text()
    assert sorted(lane_jobs(page, "c1")) == ["P1", "P2", "R1"]
    assert page.locator("#kept").is_visible()
    assert page.locator("li.locked").count() == 0
    screenshot(page, "adjust-1-planned")

    # Move P2 to c2, at the best place.
    form = page.locator('.lane[data-courier="c1"] form.move[data-job="P2"]')
    form.locator("select").select_option("c2")
    second = act(page, lambda: form.locator("button[type=submit]").click())
    assert second != first
    assert lane_jobs(page, "c2") == ["P2"]
    assert page.locator("#kept").is_visible()
    assert "08:00" in page.locator('.lane[data-courier="c2"] li[data-job="P2"]').inner_text()
    screenshot(page, "adjust-2-moved-to-c2")

    # Move P1 after R1's delivery: past its window. The broken promise comes first, in red.
    form = page.locator('.lane[data-courier="c1"] form.move[data-job="P1"]')
    form.locator("input[name=position]").fill("1")
    act(page, lambda: form.locator("button[type=submit]").click())
    assert lane_jobs(page, "c1") == ["R1", "P1"]
    broken = page.locator("#broken")
    assert broken.is_visible()
    assert "Ngoài giờ hẹn của người dân" in broken.inner_text()
    assert broken.locator('li[data-rule="window"][data-job="P1"]').count() == 1
    color = broken.evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(176, 0, 32)"
    headings = page.locator("main > h1 ~ section, main > h1 ~ div").evaluate_all(
        "items => items.map(i => i.id)"
    )
    assert headings[0] == "broken"  # before the routes
    screenshot(page, "adjust-3-broken-window")

    # Lock P1 and R1 to c1, one after the other.
    for job in ("P1", "R1"):
        button = page.locator(f'.lane[data-courier="c1"] button.lock[data-job="{job}"]')
        act(page, button.click)
    locked = page.locator('.lane[data-courier="c1"] li.locked').evaluate_all(
        "items => items.map(i => i.dataset.job)"
    )
    assert sorted(locked) == ["P1", "R1"]
    screenshot(page, "adjust-4-locked-two")

    # Re-optimise the rest: the locked jobs stay on c1, and nothing is broken any more.
    act(page, page.locator("#reoptimise").click)
    assert {"P1", "R1"} <= set(lane_jobs(page, "c1"))
    assert page.locator("#kept").is_visible()
    assert page.locator("#broken").count() == 0
    screenshot(page, "adjust-5-reoptimised")
    watch.assert_clean()
    context.close()


def test_an_error_is_shown_in_words(browser: Any, adjust_day: Day) -> None:
    """A move to a place the route does not have is refused; the page says why and stays."""
    context, watch = open_context(browser, adjust_day, "d1")
    page = watch_page(context, watch)
    plan = adjust_day.plan["plan_id"]
    page.goto(f"{adjust_day.base_url}/plans/{plan}/adjust")
    form = page.locator('.lane[data-courier="c1"] form.move[data-job="P1"]')
    form.locator("input[name=position]").fill("9")
    form.locator("button[type=submit]").click()
    status = page.locator("#adjust-status")
    status.wait_for(state="visible")
    page.wait_for_function(
        "() => document.getElementById('adjust-status').textContent.includes('position')"
    )
    assert "Không thay đổi được kế hoạch" in status.inner_text()
    assert page.url.endswith(f"/plans/{plan}/adjust")
    context.close()
