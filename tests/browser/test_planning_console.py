"""The dispatcher's planning console in Chromium: plan the day from the book, review, publish.

Tomorrow's requests (the map tests' day, with dossiers of their own) are booked through the API
and the roster stored; then, in the browser, the dispatcher presses "Plan the day", watches the
progress bar while the search runs, reads the draft (nothing published yet, so every planned
request is new; no promise broken), publishes it after the confirmation, and the courier's
phone list shows the route. The planning request is held by the test until the bar has moved,
then sent on with ``solution_limit`` added, so the plan is the same on any machine.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.browser.conftest import VN, Day, open_context, screenshot, watch_page


def _book_tomorrow(day: Day) -> tuple[str, dict[str, dict[str, Any]]]:
    """Store the roster and book tomorrow's requests; return the day and the requests by id."""
    tomorrow = (datetime.now(VN) + timedelta(days=1)).date().isoformat()
    headers = {"Authorization": f"Bearer {day.tokens['d1']}"}
    roster = {k: day.request[k] for k in ("sites", "shuttles", "couriers")}
    items = {
        f"BK-{job['id']}": {**job, "id": f"BK-{job['id']}", "dossier": f"BK-{job['dossier']}",
                            "date": tomorrow}
        for job in day.request["jobs"]
    }  # fmt: skip
    with httpx.Client(base_url=day.base_url, headers=headers, timeout=60) as client:
        assert client.put("/v1/roster", json=roster).status_code == 200
        answer = client.post("/v1/requests", json=list(items.values()))
        assert answer.status_code == 200, answer.text
        assert {r["status"] for r in answer.json()["results"]} == {"created"}
    return tomorrow, items


def test_plan_the_day_review_the_draft_and_publish_it(browser: Any, day: Day) -> None:
    """Plan the day by the button with a progress bar, review the draft, publish it after the
    confirmation; the courier's stop list then shows the published route."""
    tomorrow, items = _book_tomorrow(day)
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    held: list[Any] = []

    def hold(route: Any) -> None:  # answered below, once the progress bar has moved
        held.append(route)

    page.route("**/v1/days/*/plan", hold)
    page.goto(f"{day.base_url}/dispatch?date={tomorrow}")
    assert f"{len(items)} yêu cầu trong sổ đang chờ xếp" in page.locator("#plan-day").inner_text()
    page.select_option("#plan-time", "5")
    page.click("#plan-day-button")

    page.wait_for_function("document.getElementById('plan-progress').value >= 20")
    assert page.locator("#plan-progress-box").is_visible()
    assert page.locator("#plan-day-button").is_disabled()
    assert "Đang tìm lộ trình tốt nhất" in page.locator("#plan-progress-text").inner_text()
    screenshot(page, "console-plan-the-day-progress")
    (route,) = held
    sent = json.loads(route.request.post_data)
    assert sent == {"options": {"time_limit_s": 5}}
    route.continue_(post_data=json.dumps({"options": {"time_limit_s": 5, "solution_limit": 20}}))

    page.wait_for_selector("section.plan[data-state=draft]", timeout=60_000)
    draft_id = page.locator("section.plan").get_attribute("data-plan")
    assert draft_id and f"plan={draft_id}" in page.url
    review = page.locator("#review")
    assert "chưa có kế hoạch được công bố" in review.inner_text()
    changes = page.locator("table.changes tr.change")
    assert changes.count() >= 1
    assert {changes.nth(i).get_attribute("data-change") for i in range(changes.count())} == {
        "added"
    }
    assert page.locator("#dropped-warning").count() == 0
    assert page.locator("#no-violations").is_visible()
    assert page.locator("#adjust").get_attribute("href") == f"/plans/{draft_id}/adjust"
    screenshot(page, "console-draft-review")
    headers = {"Authorization": f"Bearer {day.tokens['d1']}"}
    draft = httpx.get(f"{day.base_url}/v1/plans/{draft_id}", headers=headers).json()
    courier = next(r["courier"] for r in draft["routes"] if any(s.get("job") for s in r["stops"]))
    before = httpx.get(
        f"{day.base_url}/v1/couriers/{courier}/stops", params={"date": tomorrow}, headers=headers
    )
    assert before.json()["stops"] == []  # a draft is no courier's list

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click("#publish")
    page.wait_for_selector("section.plan[data-state=published]", timeout=30_000)
    assert dialogs == ["Công bố? Danh sách điểm dừng của bưu tá sẽ thay đổi."]
    assert page.locator("section.plan").get_attribute("data-plan") == draft_id
    assert page.locator("#review").count() == 0 and page.locator("#replan").count() == 1
    screenshot(page, "console-published")
    watch.assert_clean()
    context.close()

    phone, phone_watch = open_context(browser, day, courier, phone=True)
    stops = watch_page(phone, phone_watch)
    stops.goto(f"{day.base_url}/couriers/{courier}/stops?date={tomorrow}")
    routed = {items[s["job"]]["dossier"] for s in _job_stops(draft, courier)}
    shown = {
        stops.locator("[data-item]").nth(i).get_attribute("data-dossier")
        for i in range(stops.locator("[data-item]").count())
    }
    assert routed and routed <= shown
    assert shown <= {item["dossier"] for item in items.values()}
    screenshot(stops, "console-courier-after-publish")
    phone_watch.assert_clean()
    phone.close()


def _job_stops(plan: dict[str, Any], courier: str) -> list[dict[str, Any]]:
    route = next(r for r in plan["routes"] if r["courier"] == courier)
    return [s for s in route["stops"] if s.get("job")]


def test_a_draft_that_drops_served_requests_is_shown_in_red_and_can_be_discarded(
    browser: Any, day: Day
) -> None:
    """An evening re-plan that would drop every served request is a draft whose dropped rows
    and warning are red; its Publish confirmation says so, cancelling it publishes nothing, and
    Discard forgets the draft."""
    later = (datetime.now(VN) + timedelta(days=2)).date().isoformat()
    headers = {"Authorization": f"Bearer {day.tokens['d1']}"}
    request = {**day.request, "date": later}
    request["jobs"] = [{**job, "dossier": f"EV-{job['dossier']}"} for job in day.request["jobs"]]
    with httpx.Client(base_url=day.base_url, headers=headers, timeout=60) as client:
        published = client.post("/v1/plans", json=request).json()
        evening = {"draft": True, "now": f"{later}T18:00:00+07:00"}
        answer = client.post(f"/v1/plans/{published['plan_id']}/replan", json=evening)
        assert answer.status_code == 201, answer.text
        draft_id = answer.json()["plan_id"]
    served = published["kpis"]["served"]
    assert served > 0

    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/dispatch?date={later}")
    assert page.locator("section.plan").get_attribute("data-plan") == published["plan_id"]
    page.click(f"#drafts a[href^='/dispatch'][href*='{draft_id}']")
    page.wait_for_selector("section.plan[data-state=draft]")
    warning = page.locator("#dropped-warning")
    assert f"bỏ {served} yêu cầu" in warning.inner_text()
    red = "rgb(179, 38, 30)"  # --bad
    assert warning.evaluate("e => getComputedStyle(e).color") == red
    dropped = page.locator("tr.change.dropped")
    assert dropped.count() == served
    assert dropped.first.evaluate("e => getComputedStyle(e).color") == red
    assert page.locator("tr[data-kpi=served]").evaluate("e => e.className") == "worse"
    screenshot(page, "console-dropping-draft")

    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.click("#publish")
    assert dialogs and f"{served} yêu cầu đang được phục vụ sẽ bị bỏ" in dialogs[0]
    assert page.locator("section.plan").get_attribute("data-state") == "draft"  # not published

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#discard")
    page.wait_for_url(f"**/dispatch?date={later}")
    assert page.locator("section.plan").get_attribute("data-plan") == published["plan_id"]
    assert page.locator("#drafts").count() == 0
    gone = httpx.get(f"{day.base_url}/v1/plans/{draft_id}", headers=headers)
    assert gone.status_code == 404
    watch.assert_clean()
    context.close()
