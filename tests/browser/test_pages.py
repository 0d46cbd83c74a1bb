"""Every page of buuta opened in headless Chromium, with the network fenced to the server.

Each test checks what the user must see (the map drawn: Leaflet container, one route line per
courier, a marker per stop; the stop list on a phone) and that no request left localhost and
no error reached the console.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.browser.conftest import VN, Day, open_context, screenshot, watch_page

pytestmark = pytest.mark.browser

WORK = {"pickup", "delivery", "handoff", "collect"}


def working_routes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Routes with at least one pickup, delivery, hand-off or collection."""
    return [r for r in plan["routes"] if any(s["type"] in WORK for s in r["stops"])]


def work_stops(plan: dict[str, Any]) -> int:
    """Number of located stops a map numbers (all but start, end and breaks)."""
    return sum(1 for r in plan["routes"] for s in r["stops"] if s["type"] in WORK)


def test_plan_map_draws_routes_stops_and_wards_offline(browser: Any, day: Day) -> None:
    """The plan map: Leaflet container, a line per working courier, a marker per stop."""
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    answer = page.goto(f"{day.base_url}/plans/{day.plan['plan_id']}/map")
    assert answer is not None and answer.status == 200
    page.wait_for_selector(".leaflet-container")
    page.wait_for_load_state("networkidle")
    assert page.locator("path.buuta-route").count() == len(working_routes(day.plan)) >= 1
    numbered = page.locator(".buuta-stop:not(.buuta-unassigned)")
    assert numbered.count() == work_stops(day.plan)
    assert page.locator(".buuta-unassigned").count() == len(day.plan["unassigned"])
    assert page.locator(".buuta-site").count() == len(day.request["sites"])
    # The 64 ward polygons are the base layer (interactive paths beside the routes).
    assert page.locator("path.leaflet-interactive").count() >= 64 + len(working_routes(day.plan))
    assert page.locator(".leaflet-tile").count() == 0
    page.locator(".buuta-stop-handoff").first.dispatch_event("click")  # stacked at the site
    assert "kịp chuyến" in page.locator(".leaflet-popup-content").inner_text()
    screenshot(page, "plan-map")
    watch.assert_clean()
    context.close()


def test_progress_map_shows_done_pending_trace_and_last_position(browser: Any, day: Day) -> None:
    """Progress: J1's pickup, those handed over with it and the hand-off are done, the trace
    drawn, the last position marked."""
    context, watch = open_context(browser, day, "s1")
    page = watch_page(context, watch)
    answer = page.goto(f"{day.base_url}/progress?date={day.date}")
    assert answer is not None and answer.status == 200
    page.wait_for_selector(".leaflet-container")
    page.wait_for_load_state("networkidle")
    assert page.locator("path.buuta-planned").count() == len(working_routes(day.plan))
    assert page.locator("path.buuta-trace").count() == 1
    # One done marker per pickup handed over with J1, and one for the hand-off stop itself.
    assert page.locator(".buuta-done").count() == len(day.handed_over) + 1
    assert page.locator(".buuta-stop").count() == work_stops(day.plan)
    assert page.locator(".buuta-position").count() == 1
    refresh = page.locator('meta[http-equiv="refresh"]').get_attribute("content")
    assert refresh == "60"
    screenshot(page, "progress-map")
    watch.assert_clean()
    context.close()


def test_dossier_journey_map_numbers_the_scans(browser: Any, day: Day) -> None:
    """The journey of J1's dossier: two scans, numbered, custodian in the popup."""
    context, watch = open_context(browser, day, "s1")
    page = watch_page(context, watch)
    answer = page.goto(f"{day.base_url}/dossiers/H12.22-261123-0001/map")
    assert answer is not None and answer.status == 200
    page.wait_for_selector(".leaflet-container")
    scans = page.locator(".buuta-scan")
    assert scans.count() == 2
    assert [scans.nth(i).inner_text() for i in range(2)] == ["1", "2"]
    scans.nth(1).dispatch_event("click")
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "Bàn giao tại bưu cục" in popup and "người giữ" in popup
    screenshot(page, "journey-map")
    watch.assert_clean()
    context.close()


def test_stop_list_on_a_phone(browser: Any, day: Day) -> None:
    """At 390×844: next stop on top, big call/navigate buttons, no sideways scroll, printable."""
    context, watch = open_context(browser, day, day.active, phone=True)
    page = watch_page(context, watch)
    answer = page.goto(f"{day.base_url}/couriers/{day.active}/stops?date={day.date}")
    assert answer is not None and answer.status == 200
    route = next(r for r in day.plan["routes"] if r["courier"] == day.active)
    # Every stop but a break with no place (a placed break is numbered, as on the plan map).
    expected = sum(1 for s in route["stops"] if s["type"] != "break" or "site" in s or "lat" in s)
    assert page.locator("ol.stops > li").count() == expected
    nxt = page.locator("section.next")
    assert nxt.count() == 1
    first_stop = page.locator("ol.stops > li").first
    assert nxt.bounding_box()["y"] < first_stop.bounding_box()["y"]
    # J1 is done (collected, handed over): the next stop is a later one.
    assert "H12.22-261123-0001" not in nxt.inner_text()
    call = page.locator('a[href^="tel:"]')
    assert call.count() >= 1
    assert page.locator('a[href^="tel:0912345678"]').count() == 1  # J1's citizen
    assert page.locator('a[href^="geo:"]').count() >= 1
    for i in range(page.locator("a.btn, button.btn").count()):
        box = page.locator("a.btn, button.btn").nth(i).bounding_box()
        if box is not None:
            assert box["height"] >= 44, "touch targets are at least 44 px tall"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"
    screenshot(page, "stop-list-phone")
    page.emulate_media(media="print")
    assert not nxt.is_visible()
    assert not page.locator(".actions").first.is_visible()
    assert page.locator(".print-only").first.is_visible()
    screenshot(page, "stop-list-print")
    watch.assert_clean()
    context.close()


def test_courier_cannot_open_another_couriers_stop_list_or_the_maps(browser: Any, day: Day) -> None:
    """A courier gets 403 pages for another courier's stops and for the dispatcher's pages."""
    other = "c2" if day.active == "c1" else "c1"
    context, watch = open_context(browser, day, day.active, phone=True)
    page = watch_page(context, watch)
    for path in (
        f"/couriers/{other}/stops?date={day.date}",
        f"/plans/{day.plan['plan_id']}/map",
        f"/dispatch?date={day.date}",
    ):
        answer = page.goto(day.base_url + path)
        assert answer is not None and answer.status == 403, path
        assert "Không được phép" in page.locator("h1").inner_text()
    assert watch.blocked == []
    context.close()


def test_login_page_sets_the_cookie_and_returns_to_the_page(browser: Any, day: Day) -> None:
    """Without a token a page sends you to /login; a valid token brings you back to it."""
    context, watch = open_context(browser, day, None)
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/dispatch?date={day.date}")
    assert "/login" in page.url
    page.fill("#token", "not-a-token")
    page.click("button[type=submit]")
    assert "không đúng" in page.locator(".error").inner_text()
    page.fill("#token", day.tokens["d1"])
    page.click("button[type=submit]")
    page.wait_for_url(f"**/dispatch?date={day.date}")
    shown = "/".join(reversed(day.date.split("-")))  # dd/mm/yyyy
    assert page.locator("h1").inner_text() == f"Điều phối · {shown}"
    cookie = next(c for c in context.cookies() if c["name"] == "buuta_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert watch.blocked == []
    context.close()


def test_stop_list_still_opens_offline_once_loaded(browser: Any, day: Day) -> None:
    """After one visit, the service worker serves the stop list when the phone has no signal."""
    context, watch = open_context(browser, day, day.active, phone=True, service_workers="allow")
    page = watch_page(context, watch)
    url = f"{day.base_url}/couriers/{day.active}/stops?date={day.date}"
    page.goto(url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the worker, which keeps a copy
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_timeout(300)
    online = page.locator("ol.stops > li").count()
    context.set_offline(True)
    page.reload()
    assert page.locator("ol.stops > li").count() == online > 0
    assert page.evaluate("getComputedStyle(document.querySelector('.next')).borderTopWidth") == (
        "3px"
    ), "the style sheet also came from the worker's cache"
    screenshot(page, "stop-list-offline")
    context.set_offline(False)
    assert watch.blocked == []
    context.close()


def test_dispatch_page_summarises_and_links_the_maps(browser: Any, day: Day) -> None:
    """The dispatcher sees served/unassigned/runs/km/tariffs and opens the plan map from it.

    The day is yesterday's, so the page offers no re-plan button (the day is over).
    """
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/dispatch?date={day.date}")
    kpis = page.locator("table.kpis").inner_text()
    served = day.plan["kpis"]["served"]
    assert f"Đã xếp\t{served} (" in kpis
    assert "₫ mỗi hồ sơ" in kpis
    reasons = page.locator("table.reasons")
    for item in day.plan["unassigned"]:  # each reason in a dispatcher's words, not its code
        cell = reasons.locator(f"td[data-reason={item['reason']}]")
        assert cell.count() == 1 and item["reason"] not in cell.inner_text()
    assert page.locator("#replan").count() == 0
    screenshot(page, "dispatch")
    page.click("text=Bản đồ kế hoạch")
    page.wait_for_selector(".leaflet-container")
    assert page.locator("path.buuta-route").count() == len(working_routes(day.plan))
    watch.assert_clean()
    context.close()


def test_dispatch_page_replans_today(browser: Any, day: Day) -> None:
    """Today's plan gets a re-plan button; pressing it stores a draft and shows its review.

    Runs last: the new plan becomes the latest of the day.
    """
    today = datetime.now(VN).date().isoformat()
    request = {**day.request, "date": today}
    answer = httpx.post(
        f"{day.base_url}/v1/plans",
        json=request,
        headers={"Authorization": f"Bearer {day.tokens['d1']}"},
        timeout=60,
    )
    assert answer.status_code == 201, answer.text
    first = answer.json()["plan_id"]
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/dispatch?date={today}")
    assert page.locator("section.plan").get_attribute("data-plan") == first
    page.click("#replan")
    status = page.locator("#replan-status")
    page.wait_for_function(
        "location.search.includes('plan=') || "
        "document.getElementById('replan-status').textContent.includes('không thành')",
        timeout=60_000,
    )
    assert "plan=" in page.url, status.inner_text()
    new_id = page.url.rsplit("plan=", 1)[1]
    assert new_id != first
    assert page.locator("section.plan").get_attribute("data-plan") == new_id
    # A re-plan is a draft shown against the published plan, never published at once.
    assert page.locator("section.plan").get_attribute("data-state") == "draft"
    assert first in page.locator("#review h3").first.inner_text()
    assert page.locator("#publish").is_visible()
    assert first in page.locator("body").inner_text()  # listed among the day's other plans
    watch.assert_clean()
    context.close()
