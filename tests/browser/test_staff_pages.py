"""Centre staff's and citizens' pages in headless Chromium, network fenced to the server.

The day of ``tests/browser/conftest.py`` is yesterday's plan after a simulated morning: the
dossiers of J1's hand-off were collected and handed over at the office by 08:30, the others
never moved. Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import Day, open_context, screenshot, watch_page

pytestmark = pytest.mark.browser


def _codes(day: Day) -> dict[str, str]:
    return {j["id"]: j["dossier"] for j in day.request["jobs"]}


def test_staff_find_a_dossier_by_part_of_its_code_in_lower_case(browser: Any, day: Day) -> None:
    """From the dispatch page, staff type part of a code in lower case and open its journey."""
    context, watch = open_context(browser, day, "s1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/dispatch?date={day.date}")
    code = _codes(day)["J1"]
    page.fill('form[role="search"] input[name="q"]', code[-9:].lower())
    page.click('form[role="search"] button[type="submit"]')
    page.wait_for_selector("table.found")
    screenshot(page, "staff-search")
    page.click(f'table.found a:text("{code}")')
    page.wait_for_selector("table.journey-facts")
    assert page.locator("h1").inner_text().endswith(code)
    assert page.locator("td.custody").inner_text() != "courier:c1"
    screenshot(page, "staff-journey")
    context.close()
    watch.assert_clean()


def test_the_board_after_a_simulated_morning_lists_dossiers_at_risk(browser: Any, day: Day) -> None:
    """Yesterday's board: J1, left at the office after its run, has missed it, with the next
    step to take; the stages count every dossier of the plan."""
    context, watch = open_context(browser, day, "s1")
    page = watch_page(context, watch)
    answer = page.goto(f"{day.base_url}/board?date={day.date}")
    assert answer is not None and answer.status == 200
    code = _codes(day)["J1"]
    row = page.locator(f'tr.risk[data-dossier="{code}"]')
    assert row.count() >= 1
    assert row.first.get_attribute("data-reason") == "run_missed"
    assert "run-1000" in row.first.inner_text()
    counts = [int(c) for c in page.locator("table.stages td.count").all_inner_texts()]
    assert sum(counts) == len(day.request["jobs"])
    screenshot(page, "staff-board")
    context.close()
    watch.assert_clean()


def _on_shuttle_count(day: Day, code: str) -> int:
    answer = httpx.get(
        f"{day.base_url}/v1/dossiers/{code}",
        headers={"Authorization": f"Bearer {day.tokens['s1']}"},
        timeout=30,
    )
    return [e["type"] for e in answer.json()["history"]].count("on_shuttle")


def test_a_manifest_is_printed_and_checked_off_once(browser: Any, day: Day) -> None:
    """The run's list prints with the signature blocks and without the form; ticking every
    dossier and submitting twice records one on_shuttle scan per dossier."""
    context, watch = open_context(browser, day, "s1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/manifests/run-1000?date={day.date}&lang=vi")
    boxes = page.locator('table.sheet input[name="dossier"]')
    ticked = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    assert set(day.handed_over) <= {j for j, c in _codes(day).items() if c in ticked}
    page.emulate_media(media="print")
    assert page.locator(".signatures").is_visible()
    assert not page.locator("#put-on").is_visible() and not page.locator(".bar").is_visible()
    screenshot(page, "manifest-print")
    page.emulate_media(media="screen")
    stale = watch_page(context, watch)  # the same list open in a second tab, ticked later
    stale.goto(f"{day.base_url}/manifests/run-1000?date={day.date}")
    for tab in (page, stale):
        ticks = tab.locator('table.sheet input[name="dossier"]')
        for i in range(ticks.count()):
            ticks.nth(i).check()
    page.click("#put-on")
    page.wait_for_selector(".done")
    assert page.locator(".done").inner_text().startswith(f"Đã ghi nhận {len(ticked)} lượt")
    stale.click("#put-on")
    stale.wait_for_selector(".done")
    assert (
        stale.locator(".done")
        .inner_text()
        .startswith(f"Đã ghi nhận 0 lượt quét; {len(ticked)} đã ghi trước đó")
    )
    screenshot(page, "manifest-checked")
    screenshot(stale, "manifest-checked-again")
    context.close()
    watch.assert_clean()
    assert [_on_shuttle_count(day, code) for code in ticked] == [1] * len(ticked)


def test_the_citizen_page_on_a_phone(browser: Any, day: Day) -> None:
    """A citizen on a phone, no login: code in lower case and phone digits give the status in
    Vietnamese, nothing personal, no horizontal scrolling, no script."""
    context, watch = open_context(browser, day, None, phone=True)
    page = watch_page(context, watch)
    answer = page.goto(f"{day.base_url}/tra-cuu?lang=vi")
    assert answer is not None and answer.status == 200
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("script").count() == 0
    screenshot(page, "citizen-form-phone")
    page.fill("#code", _codes(day)["J1"].lower())
    page.fill("#phone_last4", "5678")
    page.click("button[type=submit]")
    page.wait_for_selector("section.answer")
    assert page.locator("section.answer .status").inner_text().strip() != ""
    citizen = day.request["jobs"][0]["citizen"]
    for secret in (citizen["name"], citizen["phone"], citizen["id_number"], "9.05", "104.98"):
        assert secret not in page.content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(page, "citizen-answer-phone")
    context.close()
    watch.assert_clean()
