"""A dispatcher's whole day in Chromium, through the pages only (issue 11, "Done when").

Tomorrow in Cà Mau city: three couriers at the city's post office, the 10:00 and 14:00 runs to
the centre. The dispatcher imports the hotline's spreadsheet of 60 requests with 3 bad rows
(``/requests/import``), drags the pin of a request the gazetteer placed only at its ward's
centre (``/requests``), plans the day with the console's button (``/dispatch``), opens "Adjust
by hand", moves a stop to another courier, locks two stops and re-optimises the rest
(``/plans/{id}/adjust``), goes back to the console and publishes after the confirmation; the
couriers' phone lists (``/couriers/{id}/stops`` at 360×740) then show the published routes.

The API is used only to check what was stored and what the plan holds. The planning request
is sent on with ``solution_limit`` added (as ``test_planning_console`` does), and the
re-optimisation searches the same stored request, so every plan is the same on any machine.
A screenshot of each step goes to ``test-artifacts/browser/day-*.png``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from openpyxl import Workbook
from sqlmodel import Session

import tracking
from tests.browser.conftest import VN, Day, open_context, screenshot, watch_page
from tests.support.server import serve, sqlite_url

pytestmark = pytest.mark.browser

COURIERS = ("c1", "c2", "c3")
HEADERS = ["Mã yêu cầu", "Loại", "Mã hồ sơ", "Ngày", "Từ giờ", "Đến giờ", "Địa chỉ", "Vĩ độ",
           "Kinh độ", "Điểm bàn giao", "Nơi nhận hồ sơ", "Nơi lấy kết quả", "Giờ có kết quả",
           "Số phút phục vụ", "Họ tên", "Số điện thoại", "Thủ tục"]  # fmt: skip
PICKUP_WINDOWS = (("08:00", "10:00"), ("10:00", "12:00"), ("13:00", "15:00"))
UNCERTAIN = {12: "Phường 5, thành phố Cà Mau", 21: "Phường 8, thành phố Cà Mau"}
"""Rows placed by their address only: the gazetteer knows no more than the ward (two wards
whose points lie apart, so each pin can be grabbed)."""
DRAGGED = "DF-012"
"""A return whose result goes to a house of Phường 5: its pin is dragged there."""
BAD = {7: "window_to", 23: "address", 41: "citizen_phone"}
"""The bad rows (request number) and the column each gets wrong."""
BAD_WORDS = {"window_to": "Đến", "address": "Địa chỉ", "citizen_phone": "Điện thoại"}
"""Each bad column as the page names it in Vietnamese."""


def _roster() -> dict[str, Any]:
    """The city's offices, the runs to the centre and back, three couriers at the post office."""
    sites = [
        {"id": "po-cm", "kind": "post_office", "name": "Bưu điện Cà Mau",
         "lat": 9.1795, "lon": 105.1445},
        {"id": "centre", "kind": "centre", "name": "Trung tâm PVHCC Cà Mau",
         "lat": 9.1769, "lon": 105.1524},
    ]  # fmt: skip
    shuttles = [
        {"id": "run-1000", "from_site": "po-cm", "to_site": "centre", "departs": "10:00",
         "arrives": "10:20", "handoff_min": 10},
        {"id": "run-1400", "from_site": "po-cm", "to_site": "centre", "departs": "14:00",
         "arrives": "14:20", "handoff_min": 10},
        {"id": "back-1030", "from_site": "centre", "to_site": "po-cm", "departs": "10:30",
         "arrives": "10:50", "handoff_min": 10},
    ]  # fmt: skip
    lunch = [{"earliest": "11:00", "latest": "13:30", "duration_min": 45}]
    couriers = [
        {"id": c, "start_site": "po-cm", "end_site": "po-cm", "mode": "motorbike",
         "capacity": 25, "shift": ["07:00", "17:00"], "breaks": lunch}
        for c in COURIERS
    ]  # fmt: skip
    return {"sites": sites, "shuttles": shuttles, "couriers": couriers}


def _row(n: int, on: str) -> list[Any]:
    """Request ``n`` of the hotline's sheet: a pickup or (every third) a return, in the city."""
    pickup = n % 3 != 0
    lat, lon = 9.15 + (n % 10) * 0.006, 105.12 + (n // 10) * 0.008
    window = PICKUP_WINDOWS[n % 3 - 1] if pickup else ("13:00", "17:00")
    row = [
        f"DF-{n:03d}", "nhận" if pickup else "trả", f"H12.22-DF-{n:04d}", date.fromisoformat(on),
        window[0], window[1], None, lat, lon, "po-cm" if pickup else None,
        "centre" if pickup else None, None if pickup else "po-cm", None if pickup else "10:50",
        10, f"Người dân {n}", f"09{n:08d}", "Chứng thực bản sao",
    ]  # fmt: skip
    if n in UNCERTAIN:
        row[6], row[7], row[8] = UNCERTAIN[n], None, None
    bad = BAD.get(n)
    if bad == "window_to":
        row[5] = "07:00"  # before the window opens
    elif bad == "address":
        row[7], row[8] = None, None  # neither an address nor a point
    elif bad == "citizen_phone":
        row[15] = "12"
    return row


def _spreadsheet(path: Path, on: str) -> Path:
    """The hotline's XLSX: a header row, then 60 requests (spreadsheet rows 2 to 61)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    for n in range(1, 61):
        sheet.append(_row(n, on))
    book.save(path)
    return path


@pytest.fixture(scope="module")
def city_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    """A server on a SQLite file with dispatcher d1 and couriers c1–c3, and nothing else:
    no roster, no request."""
    url = sqlite_url(tmp_path_factory.mktemp("dispatcher-day-db"))
    tomorrow = (datetime.now(VN) + timedelta(days=1)).date().isoformat()
    with serve(url) as server:
        engine = tracking.make_engine(url)
        tokens = {}
        with Session(engine) as session:
            for name, role in (("d1", "dispatcher"), *((c, "courier") for c in COURIERS)):
                _, tokens[name] = tracking.create_user(session=session, name=name, role=role)
            session.commit()
        engine.dispose()
        yield Day(server, tokens, tomorrow, {}, {}, "", ())


def _api(day: Day) -> httpx.Client:
    """The dispatcher's API client, for checking what the pages stored."""
    headers = {"Authorization": f"Bearer {day.tokens['d1']}"}
    return httpx.Client(base_url=day.base_url, timeout=60, headers=headers)


def _book(day: Day) -> dict[str, dict[str, Any]]:
    """The day's requests in the book, by id (an API read)."""
    with _api(day) as client:
        answer = client.get("/v1/requests", params={"date": day.date})
    assert answer.status_code == 200, answer.text
    return {r["id"]: r for r in answer.json()["data"]}


def _plan(day: Day, plan_id: str) -> dict[str, Any]:
    """A stored plan with its state (an API read)."""
    with _api(day) as client:
        answer = client.get(f"/v1/plans/{plan_id}")
    assert answer.status_code == 200, answer.text
    plan: dict[str, Any] = answer.json()
    return plan


def _routes(plan: dict[str, Any]) -> dict[str, list[str]]:
    """Each courier's pickups and deliveries (job ids, in order) in a plan."""
    return {r["courier"]: [s["job"] for s in r["stops"] if s.get("job")] for r in plan["routes"]}


def _lane_jobs(page: Any, courier: str) -> list[str]:
    """A courier's pickups and deliveries as the adjust page shows them, in order."""
    jobs: list[str] = page.locator(f'.lane[data-courier="{courier}"] li[data-job]').evaluate_all(
        "items => items.map(i => i.dataset.job)"
    )
    return jobs


def _next_plan(page: Any, do: Any) -> str:
    """Run an adjust page's action, which opens the new plan's page; answer its id."""
    before = page.url
    with page.expect_navigation(url=lambda url: url != before and url.endswith("/adjust")):
        do()
    return str(page.url.rsplit("/", 2)[-2])


ROSTER_SAVES = (
    {"sites": 0},
    {"sites": 1, "couriers": 0},
    {"couriers": 1, "shuttles": 0},
    {"couriers": 2, "shuttles": 1},
    {"shuttles": 2},
)
"""What each save of the roster page adds (the item of ``_roster()`` per part): the form has
one empty row of each part, and a courier's or a run's offices are picked from those saved
(the post office first, alone: the couriers start there)."""


def _form_fields(part: str, item: dict[str, Any]) -> dict[str, str]:
    """A roster item as the roster page's fields (``shift-0``, ``breaks-0-earliest``)."""
    fields = {k: str(v) for k, v in item.items() if not isinstance(v, list)}
    for i, end in enumerate(item.get("shift", [])):
        fields[f"shift-{i}"] = end
    for b, rule in enumerate(item.get("breaks", [])):
        fields.update({f"breaks-{b}-{k}": str(v) for k, v in rule.items()})
    return fields


def _set_up_the_roster(page: Any, day: Day) -> None:
    """Step 0, once: the offices, couriers and runs typed on the empty roster page."""
    roster = _roster()
    page.goto(f"{day.base_url}/roster")
    for save in ROSTER_SAVES:
        for part, index in save.items():
            for name, value in _form_fields(part, roster[part][index]).items():
                field = page.locator(f"#{part}-{index}-{name}")
                if field.evaluate("e => e.tagName") == "SELECT":
                    field.select_option(value)
                else:
                    field.fill(value)
        with page.expect_navigation():
            page.click("#save-roster")
        assert page.url.endswith("/roster?saved=1"), page.locator("main").inner_text()
    screenshot(page, "day-0-roster")
    with _api(day) as client:
        stored = client.get("/v1/roster").json()
    for part in ("sites", "shuttles"):
        assert stored[part] == roster[part]
    assert [{**c, "skills": []} for c in roster["couriers"]] == stored["couriers"]


def _import_the_sheet(page: Any, day: Day, sheet: Path) -> None:
    """Step 1: preview the sheet (3 rows refused, each under its column), then import 57."""
    page.goto(f"{day.base_url}/requests/import")
    page.set_input_files("#file", str(sheet))
    page.click("#preview")
    page.wait_for_selector("section.import-answer[data-dry-run=yes]")
    assert page.locator("table.import-rows tr[data-row]").count() == 60
    assert page.locator("table.import-rows tr[data-status=error]").count() == 3
    for n, column in BAD.items():
        line = page.locator(f"table.import-rows tr[data-row='{n + 1}']")  # under the header
        assert line.get_attribute("data-status") == "error"
        assert f"DF-{n:03d}" in line.inner_text()
        error = line.locator("td.errs").inner_text()
        assert error.startswith(f"{BAD_WORDS[column]}: "), error
    assert page.locator("[data-count=created]").inner_text() == "Mới: 57"
    screenshot(page, "day-1-import-preview")
    assert _book(day) == {}  # a preview stores nothing

    page.click("#import-now")
    page.wait_for_selector("section.import-answer[data-dry-run=no]")
    assert page.locator("[data-count=created]").inner_text() == "Đã thêm: 57"
    assert page.locator("[data-count=error]").inner_text() == "Bị từ chối: 3"
    screenshot(page, "day-1-imported")
    book = _book(day)
    assert len(book) == 57
    assert {f"DF-{n:03d}" for n in BAD}.isdisjoint(book)
    assert {r["status"] for r in book.values()} == {"open"}


def _fix_a_pin(page: Any, day: Day) -> None:
    """Step 2: drag the pin of a request placed at its ward's centre; the point is stored."""
    before = _book(day)[DRAGGED]
    assert before["geocoded"] == {"precision": "ward", "name": "Phường 5"}
    page.goto(f"{day.base_url}/requests?date={day.date}")
    marker = page.locator(f".leaflet-marker-icon[data-request='{DRAGGED}']")
    marker.wait_for()
    page.wait_for_load_state("networkidle")  # the ward boundaries are drawn
    assert page.locator(".leaflet-marker-icon").count() == len(UNCERTAIN)
    box = marker.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 60, y + 40, steps=12)  # west and south, towards the city's houses
    page.mouse.up()
    page.locator("#pin-status").filter(has_text=f"Đã lưu vị trí của {DRAGGED}").wait_for()
    assert page.locator(f"tr[data-request='{DRAGGED}'] td.sure").inner_text() == (
        "Do d1 đặt trên bản đồ"
    )
    screenshot(page, "day-2-pin-dragged")
    after = _book(day)[DRAGGED]
    assert after["geocoded"]["precision"] == "manual"
    assert after["geocoded"]["was"] == "ward"
    assert after["lon"] < before["lon"] and after["lat"] < before["lat"]
    moved_km = math.dist((after["lat"], after["lon"]), (before["lat"], before["lon"])) * 111
    assert 0.01 < moved_km < 50


def _plan_the_day(page: Any, day: Day) -> str:
    """Step 3: the console's "Plan the day"; the draft is shown for review. Answer its id."""
    held: list[Any] = []

    def hold(route: Any) -> None:  # sent on below, with a solution limit
        held.append(route)

    page.route("**/v1/days/*/plan", hold)
    page.goto(f"{day.base_url}/dispatch?date={day.date}")
    assert "57 yêu cầu trong sổ đang chờ xếp" in page.locator("#plan-day").inner_text()
    page.select_option("#plan-time", "5")
    page.click("#plan-day-button")
    page.wait_for_function("document.getElementById('plan-progress').value >= 1")
    assert page.locator("#plan-day-button").is_disabled()
    screenshot(page, "day-3-planning")
    (route,) = held
    assert json.loads(route.request.post_data) == {"options": {"time_limit_s": 5}}
    route.continue_(post_data=json.dumps({"options": {"time_limit_s": 5, "solution_limit": 20}}))
    page.wait_for_selector("section.plan[data-state=draft]", timeout=120_000)
    page.unroute("**/v1/days/*/plan", hold)
    draft_id = str(page.locator("section.plan").get_attribute("data-plan"))
    assert "chưa có kế hoạch được công bố" in page.locator("#review").inner_text()
    draft = _plan(day, draft_id)
    assert draft["state"] == "draft"
    assert draft["kpis"]["jobs"] == 57
    added = page.locator("table.changes tr.change[data-change=added]")
    assert added.count() == draft["kpis"]["served"] > 0
    screenshot(page, "day-3-draft")
    book = _book(day)
    assert {r["status"] for r in book.values()} == {"open"}  # a draft plans nothing yet
    # The courier is sent to the house where the pin was dropped, not to the ward's centre.
    visit = next(s for r in draft["routes"] for s in r["stops"] if s.get("job") == DRAGGED)
    fixed = book[DRAGGED]
    assert (visit["lat"], visit["lon"]) == pytest.approx((fixed["lat"], fixed["lon"]))
    return draft_id


class Adjusted(NamedTuple):
    """What the dispatcher did by hand, and the plan it ended with."""

    plan_id: str
    moved: str
    """The job moved to ``target``, then locked there."""
    target: str
    other: str
    """A job of another route, locked to its courier ``keeper``."""
    keeper: str


def _move_lock_reoptimise(page: Any, day: Day, draft_id: str) -> Adjusted:
    """Step 4: move a stop to another courier and lock it there, lock a stop of another route
    to its courier, and re-optimise the rest."""
    routes = {c: jobs for c, jobs in _routes(_plan(day, draft_id)).items() if jobs}
    assert len(routes) >= 2, routes
    source, target, *rest = sorted(routes)
    moved = routes[source][0]
    keeper = rest[0] if rest else source
    other = next(j for j in routes[keeper] if j != moved)

    page.click("#adjust")
    page.wait_for_url(f"**/plans/{draft_id}/adjust")
    assert moved in _lane_jobs(page, source)
    screenshot(page, "day-4-adjust")
    form = page.locator(f'.lane[data-courier="{source}"] form.move[data-job="{moved}"]')
    form.locator("select").select_option(target)
    _next_plan(page, lambda: form.locator("button[type=submit]").click())
    assert moved in _lane_jobs(page, target) and moved not in _lane_jobs(page, source)
    screenshot(page, "day-4-moved")

    for job, courier in ((moved, target), (other, keeper)):
        button = page.locator(f'.lane[data-courier="{courier}"] button.lock[data-job="{job}"]')
        _next_plan(page, button.click)
    for job, courier in ((moved, target), (other, keeper)):
        tag = page.locator(f'.lane[data-courier="{courier}"] li.locked[data-job="{job}"]')
        assert f"khóa cho {courier}" in tag.inner_text().lower()
    screenshot(page, "day-4-locked-two")

    final = _next_plan(page, page.locator("#reoptimise").click)
    assert moved in _lane_jobs(page, target) and other in _lane_jobs(page, keeper)
    screenshot(page, "day-4-reoptimised")
    plan = _plan(day, final)
    assert plan["state"] == "draft"
    assert plan["broken"] == []  # the locks are kept, no promise is broken
    routes = _routes(plan)
    assert moved in routes[target] and other in routes[keeper]
    return Adjusted(final, moved, target, other, keeper)


def _publish(page: Any, day: Day, plan_id: str) -> None:
    """Step 5: back on the console, publish the adjusted draft after the confirmation."""
    page.click(f"a[href^='/dispatch'][href*='plan={plan_id}']")  # "Back to dispatch"
    page.wait_for_selector(f"section.plan[data-plan='{plan_id}'][data-state=draft]")
    screenshot(page, "day-5-review")
    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click("#publish")
    page.wait_for_selector("section.plan[data-state=published]", timeout=30_000)
    assert dialogs == ["Công bố? Danh sách điểm dừng của bưu tá sẽ thay đổi."]
    assert page.locator("section.plan").get_attribute("data-plan") == plan_id
    # The drafts made on the way (the day's first plan, each move and lock) were made before
    # this publication: they can no longer be published, so none is offered for review.
    assert page.locator("#drafts").count() == 0
    screenshot(page, "day-5-published")
    assert _plan(day, plan_id)["state"] == "published"
    book = _book(day)
    routed = {j for jobs in _routes(_plan(day, plan_id)).values() for j in jobs}
    assert {i for i, r in book.items() if r["status"] == "planned"} == routed


def _stale_draft(page: Any, day: Day, draft_id: str) -> None:
    """A draft made before the publication, opened again (the browser's history): the console
    says it can no longer be published and offers no Publish button, only Discard."""
    page.goto(f"{day.base_url}/dispatch?date={day.date}&plan={draft_id}")
    page.wait_for_selector(f"section.plan[data-plan='{draft_id}'][data-state=draft]")
    assert "không thể công bố nữa" in page.locator("#stale-draft").inner_text()
    assert page.locator("#publish").count() == 0
    assert page.locator("#discard").is_visible()
    screenshot(page, "day-5-stale-draft")


def _phone_list(browser: Any, day: Day, courier: str) -> list[str]:
    """Step 6: the courier's list on a 360×740 phone; answer its jobs, top to bottom."""
    context, watch = open_context(browser, day, courier, phone=True)
    page = watch_page(context, watch)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{day.base_url}/couriers/{courier}/stops?date={day.date}")
    items = page.locator("[data-item]")
    items.first.wait_for()
    jobs: list[str] = items.evaluate_all("items => items.map(i => i.dataset.job)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    screenshot(page, f"day-6-phone-{courier}")
    context.close()
    watch.assert_clean()
    return jobs


def test_a_dispatcher_s_day_from_the_spreadsheet_to_the_couriers_phones(
    browser: Any, city_day: Day, tmp_path: Path
) -> None:
    """Import, fix a pin, plan, move, lock two, re-optimise, publish: each courier's phone then
    lists the published route, the moved stop on its new courier and the locked ones on theirs."""
    day = city_day
    sheet = _spreadsheet(tmp_path / "yeu-cau-ngay-mai.xlsx", day.date)
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    _set_up_the_roster(page, day)
    _import_the_sheet(page, day, sheet)
    _fix_a_pin(page, day)
    draft_id = _plan_the_day(page, day)
    adjusted = _move_lock_reoptimise(page, day, draft_id)
    _publish(page, day, adjusted.plan_id)
    _stale_draft(page, day, draft_id)
    context.close()
    watch.assert_clean()

    published = _routes(_plan(day, adjusted.plan_id))
    shown = {c: _phone_list(browser, day, c) for c, jobs in published.items() if jobs}
    for courier, jobs in shown.items():
        assert set(jobs) == set(published[courier]), courier  # the published route, no more
    assert adjusted.moved in shown[adjusted.target]
    assert adjusted.other in shown[adjusted.keeper]
    assert not any(adjusted.moved in jobs for c, jobs in shown.items() if c != adjusted.target)
