"""The request book's pages in headless Chromium (DESIGN §8), as a dispatcher uses them.

A spreadsheet of 60 requests with 3 bad rows (written here with openpyxl, Vietnamese headers)
is previewed and imported through ``/requests/import``; an uncertain pin is dragged on
``/requests`` and its new point read back from the API; the hotline form books a request and
shows a field's error in Vietnamese; the roster page edits a courier's shift. Every check of
what was stored goes through the JSON API. Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from tests.browser.book import seed_book
from tests.browser.conftest import Day, open_context, screenshot, watch_page

pytestmark = pytest.mark.browser

HEADERS = ["Mã yêu cầu", "Loại", "Mã hồ sơ", "Ngày", "Từ giờ", "Đến giờ", "Địa chỉ", "Vĩ độ",
           "Kinh độ", "Điểm bàn giao", "Nơi nhận hồ sơ", "Nơi lấy kết quả", "Giờ có kết quả",
           "Họ tên", "Số điện thoại", "Thủ tục"]  # fmt: skip
ADDRESSES = {
    10: "Ấp 2, xã Trần Hợi, huyện Trần Văn Thời",
    20: "ấp 3, xã Khánh Bình",
    30: "Phường 5, thành phố Cà Mau",
    50: "xã Khánh Hải, huyện Trần Văn Thời",
    60: "huyện U Minh",
}
"""Rows placed by their address only, each at another commune's point than every other pin
of the day (uncertain pins; a pin on top of another would be the one dragged)."""
BAD = {7: "window_to", 23: "address", 41: "citizen_phone"}
"""The bad rows (request number) and the column each gets wrong."""
BAD_WORDS = {"window_to": "Đến", "address": "Địa chỉ", "citizen_phone": "Điện thoại"}
"""Each bad column as the page names it in Vietnamese."""


def _expect_422(watch: Any) -> None:
    """The refused form was answered 422 (the browser logs it as a failed load): expected."""
    assert watch.errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    watch.errors.clear()


def _api(day: Day, user: str = "d1") -> httpx.Client:
    headers = {"Authorization": f"Bearer {day.tokens[user]}"}
    return httpx.Client(base_url=day.base_url, timeout=60, headers=headers)


def _requests_of(day: Day, on: str) -> dict[str, dict[str, Any]]:
    with _api(day) as client:
        answer = client.get("/v1/requests", params={"date": on})
    assert answer.status_code == 200, answer.text
    return {r["id"]: r for r in answer.json()["data"]}


def _row(n: int, on: str) -> list[Any]:
    """Request ``n`` of the spreadsheet: a pickup or (every third) a return of ``on``."""
    pickup = n % 3 != 0
    lat, lon = 9.15 + (n % 10) * 0.004, 105.10 + (n // 10) * 0.006
    window = ("8h30", "10:00") if pickup else ("13:00", "16:00")
    row = [
        f"BK-{n:03d}", "nhận" if pickup else "trả", f"H12.22-BK-{n:04d}", date.fromisoformat(on),
        window[0], window[1], None, lat, lon, "po-cm" if pickup else None,
        "centre" if pickup else None, None if pickup else "po-cm", None if pickup else "10:50",
        f"Người dân {n}", f"09{n:08d}", "Cấp đổi giấy phép lái xe",
    ]  # fmt: skip
    if n in ADDRESSES:
        row[6], row[7], row[8] = ADDRESSES[n], None, None
    bad = BAD.get(n)
    if bad == "window_to":
        row[5] = "07:00"  # before the window opens
    elif bad == "address":
        row[7], row[8] = None, None  # neither an address nor a point
    elif bad == "citizen_phone":
        row[14] = "12"
    return row


def _spreadsheet(path: Path, on: str) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([f"Danh sách yêu cầu ngày {on}"])  # a title row above the header
    sheet.append(HEADERS)
    for n in range(1, 61):
        sheet.append(_row(n, on))
    book.save(path)
    return path


@pytest.fixture(scope="module")
def imported(browser: Any, day: Day, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Tomorrow's book: the roster stored, then the spreadsheet imported through the page
    (preview first, then import), checked on the way; answers the day."""
    on = seed_book(day)
    sheet = _spreadsheet(tmp_path_factory.mktemp("book") / "yeu-cau.xlsx", on)
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/requests/import")
    page.set_input_files("#file", str(sheet))
    page.click("#preview")
    page.wait_for_selector("section.import-answer[data-dry-run=yes]")
    rows = page.locator("table.import-rows tr[data-row]")
    assert rows.count() == 60
    refused = page.locator("table.import-rows tr[data-status=error]")
    assert refused.count() == 3
    for n, column in BAD.items():
        line = page.locator(f"table.import-rows tr[data-row='{n + 2}']")  # title, header
        assert line.get_attribute("data-status") == "error"
        assert f"BK-{n:03d}" in line.inner_text()
        error = line.locator("td.errs").inner_text()
        assert error.startswith(f"{BAD_WORDS[column]}: "), error
    assert page.locator("[data-count=created]").inner_text() == "Mới: 57"
    screenshot(page, "book-import-preview")
    assert not any(r.startswith("BK-") for r in _requests_of(day, on))  # a preview stores nothing

    page.click("#import-now")
    page.wait_for_selector("section.import-answer[data-dry-run=no]")
    assert page.locator("[data-count=created]").inner_text() == "Đã thêm: 57"
    assert page.locator("[data-count=error]").inner_text() == "Bị từ chối: 3"
    screenshot(page, "book-import-done")
    context.close()
    watch.assert_clean()
    stored = [r for r in _requests_of(day, on) if r.startswith("BK-")]
    assert len(stored) == 57
    assert {f"BK-{n:03d}" for n in BAD}.isdisjoint(stored)
    return on


def test_import_previews_every_row_then_stores_the_good_ones(imported: str, day: Day) -> None:
    """57 of the 60 rows are stored once, with their citizen and their place."""
    book = _requests_of(day, imported)
    assert book["BK-001"]["citizen"]["name"] == "Người dân 1"
    assert book["BK-003"]["kind"] == "return"
    assert book["BK-010"]["geocoded"] == {"precision": "ward", "name": "Trần Hợi"}
    assert book["BK-002"]["window"] == ["08:30", "10:00"]  # typed 8h30


def test_a_dragged_pin_is_stored(browser: Any, day: Day, imported: str) -> None:
    """The dispatcher drags BK-010's uncertain pin; its new point is stored as set by hand
    and its row says so."""
    before = _requests_of(day, imported)["BK-010"]
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/requests?date={imported}")
    marker = page.locator(".leaflet-marker-icon[data-request='BK-010']")
    marker.wait_for()
    page.wait_for_load_state("networkidle")  # the ward boundaries are drawn
    assert page.locator(".leaflet-marker-icon").count() == len(ADDRESSES) + 2  # and SB-1, SB-2
    box = marker.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 45, steps=12)
    page.mouse.up()
    status = page.locator("#pin-status")
    status.filter(has_text="Đã lưu vị trí của BK-010").wait_for()
    row = page.locator("tr[data-request='BK-010'] td.sure")
    assert row.inner_text() == "Do d1 đặt trên bản đồ"
    screenshot(page, "book-pin-dragged")
    context.close()
    watch.assert_clean()

    after = _requests_of(day, imported)["BK-010"]
    assert after["geocoded"]["precision"] == "manual"
    assert after["geocoded"]["was"] == "ward"
    # Dragged right and down: east and south of the commune's point, by a few hundred metres.
    assert after["lon"] > before["lon"] and after["lat"] < before["lat"]
    moved_km = math.dist((after["lat"], after["lon"]), (before["lat"], before["lon"])) * 111
    assert 0.01 < moved_km < 50
    # Reloaded, the pin is no longer among the uncertain ones.
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/requests?date={imported}")
    page.locator(".leaflet-marker-icon").first.wait_for()
    assert page.locator(".leaflet-marker-icon[data-request='BK-010']").count() == 0
    context.close()


def test_staff_see_the_book_but_move_no_pin(browser: Any, day: Day, imported: str) -> None:
    """Staff read the book with citizens' names, the pins cannot be dragged, no form links."""
    context, watch = open_context(browser, day, "s1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/requests?date={imported}")
    page.locator(".leaflet-marker-icon").first.wait_for()
    assert page.locator(".leaflet-marker-draggable").count() == 0
    assert page.locator("a[href^='/requests/new']").count() == 0
    assert "Người dân 1" in page.locator("tr[data-request='BK-001']").inner_text()
    twin = page.locator("tr[data-request='SB-3'] [data-twin]")
    assert "SB-4" in twin.inner_text()  # the same dossier booked twice
    page.select_option("#status", "open")
    page.click("form.filter button[type=submit]")
    page.wait_for_url("**status=open**")
    assert page.locator("a#to-dispatch").get_attribute("href") == f"/dispatch?date={imported}"
    screenshot(page, "book-staff")
    context.close()
    watch.assert_clean()


def test_hotline_form_books_a_request_and_names_a_bad_field(browser: Any, day: Day) -> None:
    """A request typed on the form is booked; a window that ends before it starts is shown
    beside its field, in Vietnamese, and nothing is stored."""
    on = seed_book(day)
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/requests/new?date={on}")
    assert page.locator("script").count() == 0  # works without JavaScript
    assert page.locator("#f-date").input_value() == "/".join(reversed(on.split("-")))
    page.select_option("#f-kind", "pickup")
    page.fill("#f-dossier", "H12.22-HL-0001")
    page.fill("#f-procedure", "Đăng ký khai sinh")
    page.click("#other-time summary")  # a dispatcher types a time the list does not offer
    page.fill("#f-window_from", "10:00")
    page.fill("#f-window_to", "09:00")
    page.fill("#f-address", "xã Tân Lộc, huyện Thới Bình")
    page.select_option("#f-handoff_site", "po-cm")
    page.select_option("#f-destination_site", "centre")
    page.fill("#f-citizen_name", "Võ Thị Em")
    page.fill("#f-citizen_phone", "0911222333")
    page.click("#book")
    error = page.locator(".field-error[data-field=window_to]")
    assert error.inner_text() == "Giờ hẹn phải kết thúc sau giờ bắt đầu."
    assert page.locator("#f-citizen_name").input_value() == "Võ Thị Em"  # kept for the fix
    screenshot(page, "book-hotline-error")
    _expect_422(watch)
    code = page.locator("input[name=id]").input_value()
    assert code not in _requests_of(day, on)

    page.fill("#f-window_from", "8h")
    page.fill("#f-window_to", "11:00")
    page.click("#book")
    page.wait_for_url("**/requests?date=*")
    assert code in page.locator("#booked").inner_text()
    screenshot(page, "book-hotline-booked")
    context.close()
    watch.assert_clean()
    stored = _requests_of(day, on)[code]
    assert stored["window"] == ["08:00", "11:00"]
    assert stored["citizen"]["name"] == "Võ Thị Em"
    assert stored["geocoded"]["name"] == "Tân Lộc"


def test_hotline_checks_free_windows_and_books_one_on_a_phone(browser: Any, day: Day) -> None:
    """At phone size, the operator types the citizen's address and office, checks the day's
    windows (a form post, no JavaScript), reads which are free and why the others are full,
    taps a free one and books it; the request holds that window. The windows are those
    ``GET /v1/slots`` answers for the point the booking gave the address."""
    on = seed_book(day)
    context, watch = open_context(browser, day, "d1", phone=True)
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/requests/new?date={on}")
    assert page.locator("script").count() == 0
    assert not page.locator("#f-window_from").is_visible()  # tucked under "Other time"
    page.fill("#f-dossier", "H12.22-HL-0777")
    page.fill("#f-address", "xã Khánh Bình Tây, huyện Trần Văn Thời")
    page.select_option("#f-handoff_site", "po-tvt")
    page.select_option("#f-destination_site", "centre")
    page.fill("#f-citizen_name", "Lê Văn Tư")
    page.click("#check-windows")
    page.wait_for_selector("#slots")
    assert page.locator("#slots").get_attribute("data-basis") == "roster"  # tomorrow: no plan
    assert page.locator("#f-citizen_name").input_value() == "Lê Văn Tư"  # kept
    slots = page.locator("#slots label.slot")
    shown = [
        (
            slots.nth(i).get_attribute("data-window"),
            slots.nth(i).get_attribute("data-free") == "yes",
            slots.nth(i).get_attribute("data-reason"),
            slots.nth(i).locator(".words").inner_text(),
        )
        for i in range(slots.count())
    ]
    free = [w for w, ok, _reason, _words in shown if ok]
    assert free, shown
    for window, ok, reason, words in shown:
        radio = page.locator(f"#slots label[data-window='{window}'] input")
        assert radio.is_disabled() != ok
        assert words == "còn nhận" if ok else words.startswith("hết chỗ: "), (window, reason)
        box = page.locator(f"#slots label[data-window='{window}']").bounding_box()
        assert box is not None and box["height"] >= 44  # a target a thumb hits
    screenshot(page, "book-hotline-windows-phone")
    page.locator(f"#slots label[data-window='{free[-1]}']").click()
    assert page.locator(f"#slots input[value='{free[-1]}']").is_checked()
    code = page.locator("input[name=id]").input_value()
    page.click("#book")
    page.wait_for_url("**/requests?date=*")
    assert code in page.locator("#booked").inner_text()
    screenshot(page, "book-hotline-window-booked-phone")
    context.close()
    watch.assert_clean()
    stored = _requests_of(day, on)[code]
    assert stored["window"] == free[-1].split("-")
    with _api(day) as client:
        query = {"date": on, "kind": "pickup", "lat": stored["lat"], "lon": stored["lon"],
                 "handoff_site": "po-tvt", "destination_site": "centre"}  # fmt: skip
        answer = client.get("/v1/slots", params=query).json()
    assert [("-".join(w["window"]), w["available"], w["reason"]) for w in answer["windows"]] == [
        (w, ok, reason) for w, ok, reason, _words in shown
    ]


def test_roster_page_edits_a_courier_s_shift(browser: Any, day: Day) -> None:
    """c1's shift is shortened on the form; a shift ending before it starts is refused beside
    the field and nothing is stored; staff see the roster without a form."""
    seed_book(day)
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/roster")
    assert page.locator("tr[data-courier=c1] [name='couriers-0-id']").input_value() == "c1"
    page.fill("#couriers-0-shift-1", "16:00")
    page.click("#save-roster")
    page.wait_for_url("**/roster?saved=1")
    assert page.locator("#saved").is_visible()
    with _api(day) as client:
        couriers = {c["id"]: c for c in client.get("/v1/roster").json()["couriers"]}
    assert couriers["c1"]["shift"] == ["07:00", "16:00"]
    lunch = {"earliest": "11:00", "latest": "13:30", "duration_min": 45}
    assert couriers["c1"]["breaks"] == [lunch]  # kept as it was
    assert couriers["c2"]["shift"] == ["07:00", "17:00"]

    page.fill("#couriers-0-shift-1", "06:00")
    page.click("#save-roster")
    error = page.locator(".field-error[data-field='couriers-0-shift']")
    assert error.inner_text() == "Kết thúc lúc 06:00, trước giờ bắt đầu 07:00."
    assert page.locator("#roster-errors").is_visible()
    screenshot(page, "roster-error")
    _expect_422(watch)
    with _api(day) as client:
        couriers = {c["id"]: c for c in client.get("/v1/roster").json()["couriers"]}
    assert couriers["c1"]["shift"] == ["07:00", "16:00"]
    context.close()
    watch.assert_clean()

    context, watch = open_context(browser, day, "s1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/roster")
    assert page.locator("form.roster input, form.roster select").count() == 0
    assert "16:00" in page.locator("tr[data-courier=c1]").inner_text()
    screenshot(page, "roster-staff")
    context.close()
    watch.assert_clean()
