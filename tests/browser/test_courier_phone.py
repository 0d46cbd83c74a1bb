"""The courier's phone (DESIGN §9, issue 12) in Debian's Chromium at a phone's size.

A server of its own (the shared day of ``conftest.py`` must stay as it is for the other browser
tests) with one courier, c1, planned yesterday through ``POST /v1/plans``: 50 pickups at homes
handed over at the Trần Văn Thời post office, and two results to return. Every scan is made by
tapping the page (or typing, or showing a QR code to Chromium's fake camera) and is checked on
the server through the staff API (``GET /v1/dossiers/{code}``), event by event.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

import tracking
from harness.days import PHONE_RETURNS, phone_request
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VN,
    open_context,
    screenshot,
    watch_page,
)
from tests.i18n.english import english_left
from tests.support.server import RunningServer, serve, sqlite_url
from tracking.models import CourierPosition

pytestmark = pytest.mark.browser

PICKUPS = 50
"""Pickups P01..P50 are tapped by the 100-scan test; P51 and P52 are left to the scan sheet,
P53 to the test of a scan that arrives before its predecessor."""
SCANNED = ("P51", "P52", "P53")
RETURNS = PHONE_RETURNS


@dataclass
class PhoneDay:
    """The served day of courier c1: server, tokens, plan and its request."""

    server: RunningServer
    tokens: dict[str, str]
    date: str
    plan: dict[str, Any]
    request: dict[str, Any]

    @property
    def base_url(self) -> str:
        """The server's base URL."""
        return self.server.base_url

    @property
    def stops_url(self) -> str:
        """c1's stop list of the day."""
        return f"{self.base_url}/couriers/c1/stops?date={self.date}"

    def dossier(self, job: str) -> str:
        """The dossier code of ``job``."""
        return next(j["dossier"] for j in self.request["jobs"] if j["id"] == job)

    def history(self, code: str) -> dict[str, Any]:
        """A dossier's status and events, as staff read them."""
        answer = httpx.get(
            f"{self.base_url}/v1/dossiers/{code}",
            headers={"Authorization": f"Bearer {self.tokens['s1']}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data


@pytest.fixture(scope="module")
def phone_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhoneDay]:
    """A server with courier c1 (and staff s1, dispatcher d1) and yesterday's plan of c1."""
    url = sqlite_url(tmp_path_factory.mktemp("phone-db"))
    with serve(url, env={"BUUTA_SOLVE_TIME_LIMIT_S": "5"}) as server:
        tokens = {}
        engine = tracking.make_engine(url)
        with Session(engine) as session:
            for name, role in (("d1", "dispatcher"), ("s1", "staff"), ("c1", "courier")):
                _, tokens[name] = tracking.create_user(session=session, name=name, role=role)
            session.commit()
        engine.dispose()
        day = (datetime.now(VN) - timedelta(days=1)).date().isoformat()
        request = phone_request(day, PICKUPS + len(SCANNED))
        answer = httpx.post(
            f"{server.base_url}/v1/plans",
            json=request,
            headers={"Authorization": f"Bearer {tokens['d1']}"},
            timeout=120,
        )
        assert answer.status_code == 201, answer.text
        plan = answer.json()
        assert plan["unassigned"] == [], "the test day needs every job on c1's route"
        ready = [
            {
                "event_id": str(uuid.uuid4()),
                "dossier": job["dossier"],
                "type": "result_ready",
                "at": f"{day}T07:00:00+07:00",
                "site": "po-tvt",
                "job": job["id"],
            }
            for job in request["jobs"]
            if job["id"] in RETURNS
        ]  # fmt: skip  (the results are ready at the post office when c1 comes for them)
        answer = httpx.post(
            f"{server.base_url}/v1/scans",
            json=ready,
            headers={"Authorization": f"Bearer {tokens['s1']}"},
            timeout=60,
        )
        assert [r["status"] for r in answer.json()["results"]] == ["stored"] * len(RETURNS)
        yield PhoneDay(server=server, tokens=tokens, date=day, plan=plan, request=request)


def _vietnamese_phone(browser: Any, day: PhoneDay, user: str | None, **options: Any) -> Any:
    """A phone context whose browser asks for Vietnamese, as a courier's phone does."""
    context, watch = open_context(browser, day, user, phone=True, **options)  # type: ignore[arg-type]
    context.set_extra_http_headers({"Accept-Language": "vi-VN,vi;q=0.9"})
    return context, watch


def _open(browser: Any, day: PhoneDay, **options: Any) -> tuple[Any, Any, Any]:
    context, watch = _vietnamese_phone(browser, day, "c1", **options)
    page = watch_page(context, watch)
    answer = page.goto(day.stops_url)
    assert answer is not None and answer.status == 200
    page.wait_for_selector("html[data-courier-ready]")
    return context, watch, page


def _pending(page: Any) -> int:
    return int(page.locator("[data-pending]").first.inner_text())


def _wait_all_sent(page: Any, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(
        "document.querySelector('[data-pending]').textContent.trim() === '0'",
        timeout=timeout_ms,
    )


def _recorded(page: Any) -> int:
    return int(page.locator("html").get_attribute("data-recorded") or 0)


def _then_recorded(page: Any, before: int, n: int = 1) -> None:
    """Wait until the page has put ``n`` more scans in its queue (IndexedDB) since ``before``."""
    page.wait_for_function(
        f"Number(document.documentElement.getAttribute('data-recorded') || 0) >= {before + n}",
        timeout=10_000,
    )


def _render_all(page: Any) -> None:
    """Lay out every stop: off-screen stops skip rendering (content-visibility), so their
    text would be missing from what the test reads as visible."""
    page.evaluate(
        "document.querySelectorAll('ol.stops > li')"
        ".forEach(li => { li.style.contentVisibility = 'visible'; })"
    )


def _shot(page: Any, name: str) -> None:
    """A full-page screenshot with every stop drawn (a kept artefact to look at)."""
    _render_all(page)
    screenshot(page, name)


def _item_button(page: Any, event: str, code: str) -> Any:
    return page.locator(f'ol.stops [data-event="{event}"][data-dossier="{code}"]')


def test_vietnamese_page_numbers_stops_as_the_map_and_speaks_no_english(
    browser: Any, phone_day: PhoneDay
) -> None:
    """The page is Vietnamese (lang="vi", no English interface word), each stop offers its
    actions, and stop numbers run 1..n over the stops the plan map numbers."""
    context, watch, page = _open(browser, phone_day)
    assert page.locator("html").get_attribute("lang") == "vi"
    _render_all(page)
    visible = page.locator("body").inner_text()
    assert english_left(visible) == [], english_left(visible)
    route = phone_day.plan["routes"][0]
    mapped = [s for s in route["stops"] if s["type"] not in {"start", "end"}]
    numbers = [int(n) for n in page.locator("ol.stops .num").all_inner_texts()]
    assert numbers == list(range(1, len(mapped) + 1))
    assert _item_button(page, "collected", phone_day.dossier("P01")).count() == 1
    for job in RETURNS:
        code = phone_day.dossier(job)
        assert _item_button(page, "delivered", code).count() == 1
        assert _item_button(page, "delivery_failed", code).count() == 1
        assert _item_button(page, "out_for_delivery", code).count() == 1
    assert page.locator('link[rel="manifest"]').count() == 1
    manifest = httpx.get(f"{phone_day.base_url}/static/manifest.webmanifest").json()
    assert manifest["display"] == "standalone" and manifest["lang"] == "vi"
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    for i in range(page.locator("ol.stops button.btn").count()):
        box = page.locator("ol.stops button.btn").nth(i).bounding_box()
        if box is not None:
            assert box["height"] >= 48, "buttons are big enough for a thumb"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "courier-phone-vi")
    english = page.goto(phone_day.stops_url + "&lang=en")
    assert english is not None and english.status == 200
    assert "Collected" in page.locator("ol.stops").inner_text()
    watch.assert_clean()
    context.close()


def test_a_hundred_scans_with_the_network_dropping_reach_the_server_exactly_once(
    browser: Any, phone_day: PhoneDay
) -> None:
    """100 taps (50 pickups collected, then each handed over one by one) while the network
    drops on a seeded random schedule, with a reload offline half-way: afterwards the server
    holds exactly one ``collected`` and one ``at_hub`` event per dossier (0 lost, 0 twice)."""
    rng = random.Random(2026)
    context, watch, page = _open(browser, phone_day, service_workers="allow")
    page.wait_for_selector("html[data-offline-ready]")
    codes = [phone_day.dossier(f"P{i:02d}") for i in range(1, PICKUPS + 1)]
    taps = [("collected", c) for c in codes] + [("at_hub", c) for c in codes]
    offline = False
    for n, (event, code) in enumerate(taps, start=1):
        if rng.random() < 0.3:
            offline = not offline
            context.set_offline(offline)
        button = _item_button(page, event, code)
        button.scroll_into_view_if_needed()
        button.tap()
        page.wait_for_function(
            "b => b.hasAttribute('data-done')", arg=button.element_handle(), timeout=10_000
        )
        if n == 50:  # the phone is reloaded with no signal: the waiting scans survive it
            context.set_offline(True)
            waiting = _pending(page)
            page.reload()
            page.wait_for_selector("html[data-courier-ready]")
            assert _pending(page) == waiting
            offline = True
    if offline:
        assert _pending(page) > 0, "scans made offline wait on the phone"
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _wait_all_sent(page)
    assert page.locator("[data-alerts] .alert").count() == 0
    first = page.locator("ol.stops li.type-pickup", has_text=codes[0])
    assert "done" in (first.get_attribute("class") or "") and "Xong" in first.text_content()
    lost, twice = [], []
    for code in codes:
        events = phone_day.history(code)["history"]
        kinds = [e["type"] for e in events]
        for kind in ("collected", "at_hub"):
            if kinds.count(kind) == 0:
                lost.append((code, kind))
            elif kinds.count(kind) > 1:
                twice.append((code, kind))
        assert len({e["event_id"] for e in events}) == len(events)
    assert (lost, twice) == ([], [])
    _shot(page, "courier-phone-after-sync")
    assert watch.blocked == []
    context.close()


def test_a_wrong_delivery_code_is_refused_on_the_phone_and_by_the_server(
    browser: Any, phone_day: PhoneDay
) -> None:
    """A malformed code is refused on the spot; a wrong 6-digit code is sent, flagged by the
    server and shown in words; the right code then delivers and the warning goes away."""
    code = phone_day.dossier("R1")
    staff = {"Authorization": f"Bearer {phone_day.tokens['s1']}"}
    issued = httpx.post(
        f"{phone_day.base_url}/v1/dossiers/{code}/delivery-code", headers=staff, timeout=30
    )
    assert issued.status_code in {200, 201}, issued.text
    right = issued.json()["code"]
    wrong = "000000" if right != "000000" else "111111"
    context, watch, page = _open(browser, phone_day)
    _item_button(page, "out_for_delivery", code).tap()
    _then_recorded(page, 0)
    _wait_all_sent(page)
    _item_button(page, "delivered", code).tap()
    sheet = page.locator('dialog[data-dialog="delivered"]')
    sheet.locator('input[name="code"]').fill("12")
    sheet.locator("[data-submit]").tap()
    assert "6 chữ số" in sheet.locator("[data-error]").inner_text()
    assert sheet.is_visible(), "a malformed code never leaves the phone"
    sheet.locator('input[name="code"]').fill(wrong)
    sheet.locator("[data-submit]").tap()
    _then_recorded(page, 1)
    page.wait_for_selector("[data-alerts] .alert")
    _wait_all_sent(page)
    alert = page.locator("[data-alerts]").inner_text()
    assert code in alert and "mã nhận không đúng" in alert
    assert _item_button(page, "delivered", code).is_enabled()
    history = phone_day.history(code)
    assert history["status"] != "delivered"
    delivered = [e for e in history["history"] if e["type"] == "delivered"]
    assert len(delivered) == 1 and delivered[0]["flagged"]
    _shot(page, "courier-phone-wrong-code")
    page.reload()  # the list, read again from the server, says the hand-over was refused
    page.wait_for_selector("html[data-courier-ready]")
    _render_all(page)
    refused = page.locator("ol.stops li.type-delivery", has_text=code)
    assert "Lần trao gần nhất bị từ chối" in refused.inner_text()
    assert "Chưa làm" in refused.inner_text()
    assert code in page.locator("[data-alerts]").inner_text(), "the flag still stands"
    _item_button(page, "delivered", code).tap()
    sheet.locator('input[name="code"]').fill(right)
    sheet.locator("[data-submit]").tap()
    _then_recorded(page, 0)  # counted since the reload
    _wait_all_sent(page)
    page.wait_for_function("!document.querySelector('[data-alerts] .alert')")
    assert phone_day.history(code)["status"] == "delivered"
    watch.assert_clean()
    context.close()


def test_a_failed_delivery_records_the_reason_and_shows_it(
    browser: Any, phone_day: PhoneDay
) -> None:
    """Failed: reason and next step from the lists; sent as the scan's reason and shown, in
    words, on the reloaded list as a failed stop."""
    code = phone_day.dossier("R2")
    context, watch, page = _open(browser, phone_day)
    _item_button(page, "out_for_delivery", code).tap()
    _then_recorded(page, 0)
    _item_button(page, "delivery_failed", code).tap()
    sheet = page.locator('dialog[data-dialog="delivery_failed"]')
    sheet.locator("[data-submit]").tap()
    assert sheet.locator("[data-error]").inner_text() != ""
    sheet.locator('input[name="reason"][value="refused"]').check()
    sheet.locator('input[name="next"][value="return_to_agency"]').check()
    sheet.locator("[data-submit]").tap()
    _then_recorded(page, 1)
    _wait_all_sent(page)
    history = phone_day.history(code)
    assert history["status"] == "delivery_failed"
    page.reload()
    page.wait_for_selector("html[data-courier-ready]")
    _render_all(page)
    stop = page.locator("ol.stops li.failed", has_text=code)
    assert stop.count() == 1
    text = stop.inner_text()
    assert "Người dân từ chối nhận kết quả" in text and "Trả lại cơ quan" in text
    assert "Không thành" in text
    watch.assert_clean()
    context.close()


def test_a_code_of_another_stop_is_refused_and_a_typed_code_records(
    browser: Any, phone_day: PhoneDay
) -> None:
    """The scan sheet of a stop refuses a dossier of another stop, and takes its own."""
    mine, other = phone_day.dossier(SCANNED[0]), phone_day.dossier("P01")
    context, watch, page = _open(browser, phone_day)
    stop = page.locator('ol.stops [data-stop][data-type="pickup"]').filter(
        has=page.locator(f'[data-dossier="{mine}"]')
    )
    stop.locator("[data-scan]").tap()
    sheet = page.locator('dialog[data-dialog="scan"]')
    sheet.locator("[data-code-input]").fill(other)
    sheet.locator("[data-submit]").tap()
    assert "không phải hồ sơ của điểm dừng này" in sheet.locator("[data-error]").inner_text()
    sheet.locator("[data-code-input]").fill(f" {mine.lower()} ")  # as typed on a phone
    sheet.locator("[data-submit]").tap()
    assert not sheet.is_visible()
    _then_recorded(page, 0)
    _wait_all_sent(page)
    assert [e["type"] for e in phone_day.history(mine)["history"]] == ["collected"]
    watch.assert_clean()
    context.close()


# --------------------------------------------------------------------------- camera


def _y4m_of_qr(text: str, path: Path, *, width: int = 640, height: int = 480) -> Path:
    """A short Y4M video (4:2:0) showing the QR code of ``text``, black on white."""
    import segno

    qr = segno.make_qr(text, error="m")
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    cells = len(matrix)
    scale = min(width, height) * 8 // 10 // cells
    left, top = (width - cells * scale) // 2, (height - cells * scale) // 2
    luma = bytearray(b"\xeb" * (width * height))  # white (235)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start : start + scale] = b"\x10" * scale  # black (16)
    chroma = b"\x80" * (width * height // 4)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(frame)
    return path


def test_camera_reads_a_qr_code_and_records_the_pickup(
    browser: Any, phone_day: PhoneDay, tmp_path: Path
) -> None:
    """Chromium's fake camera shows the QR code of a pickup's dossier: the scan sheet reads it
    (BarcodeDetector where the browser has it, else the vendored ZXing) and records it."""
    code = phone_day.dossier(SCANNED[1])
    assert phone_day.history(code)["history"] == []
    video = _y4m_of_qr(code, tmp_path / f"qr-{uuid.uuid4().hex[:6]}.y4m")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # A second Chromium of the session's Playwright, started with the fake camera.
    camera_browser = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args)
    context, watch, page = _open(camera_browser, phone_day)
    context.grant_permissions(["camera"], origin=phone_day.base_url)
    stop = page.locator('ol.stops [data-stop][data-type="pickup"]').filter(
        has=page.locator(f'[data-dossier="{code}"]')
    )
    stop.locator("[data-scan]").tap()
    sheet = page.locator('dialog[data-dialog="scan"]')
    assert sheet.is_visible()
    sheet.wait_for(state="hidden", timeout=30_000)  # closes once the code is read
    _then_recorded(page, 0)
    _wait_all_sent(page)
    after = phone_day.history(code)
    assert [e["type"] for e in after["history"]] == ["collected"]
    assert after["status"] == "collected"
    assert page.locator("html").get_attribute("data-decoder") in {"native", "zxing"}
    watch.assert_clean()
    context.close()
    camera_browser.close()


def test_list_opened_right_after_log_in_reopens_offline(browser: Any, phone_day: PhoneDay) -> None:
    """Log in, land on the list, lose the signal, reload: the list (not an error) is shown,
    in Vietnamese, with its style."""
    context, watch = _vietnamese_phone(browser, phone_day, None, service_workers="allow")
    page = watch_page(context, watch)
    page.goto(phone_day.stops_url)  # not logged in: the log-in form, then back to the list
    page.fill("#token", phone_day.tokens["c1"])
    page.click("button[type=submit]")
    page.wait_for_url(phone_day.stops_url)
    page.wait_for_selector("html[data-offline-ready]", timeout=30_000)
    count = page.locator("ol.stops > li").count()
    assert count > 0
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("html[data-courier-ready]")
    assert page.locator("ol.stops > li").count() == count
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.evaluate("getComputedStyle(document.querySelector('.next')).borderTopWidth") == (
        "3px"
    )
    assert "Mất mạng" in page.locator("[data-online]").inner_text()
    _shot(page, "courier-phone-offline-after-login")
    context.set_offline(False)
    assert watch.blocked == []
    context.close()


def test_a_scan_that_merely_arrived_before_its_predecessor_does_not_alarm(
    browser: Any, phone_day: PhoneDay
) -> None:
    """P53 is handed over on this phone before the server has its collection (made on another
    phone, still offline): the server flags the hand-over and the page says so. Once the
    collection arrives the dossier's status catches up, and the warning goes away by itself."""
    code = phone_day.dossier(SCANNED[2])
    context, watch, page = _open(browser, phone_day)
    _item_button(page, "at_hub", code).tap()
    _then_recorded(page, 0)
    _wait_all_sent(page)
    page.wait_for_selector("[data-alerts] .alert")
    assert code in page.locator("[data-alerts]").inner_text()
    _shot(page, "courier-phone-flag-stands")
    job = next(j for j in phone_day.request["jobs"] if j["dossier"] == code)
    collected = {
        "event_id": str(uuid.uuid4()), "dossier": code, "type": "collected",
        "at": (datetime.now(VN) - timedelta(minutes=30)).isoformat(timespec="seconds"),
        "lat": job["lat"], "lon": job["lon"], "job": job["id"],
    }  # fmt: skip
    answer = httpx.post(
        f"{phone_day.base_url}/v1/scans",
        json=[collected],
        headers={"Authorization": f"Bearer {phone_day.tokens['c1']}"},
        timeout=30,
    )
    assert answer.json()["results"][0]["dossier_status"] == "at_hub"
    page.evaluate("window.dispatchEvent(new Event('online'))")  # as when the signal returns
    page.wait_for_function("!document.querySelector('[data-alerts] .alert')", timeout=30_000)
    page.reload()
    page.wait_for_selector("html[data-courier-ready]")
    assert page.locator("[data-alerts] .alert").count() == 0
    watch.assert_clean()
    context.close()


def test_the_position_is_queued_and_sent_with_permission(browser: Any, phone_day: PhoneDay) -> None:
    """With the location permission, the open page records the phone's position and sends it
    to ``POST /v1/couriers/c1/positions``."""
    engine = tracking.make_engine(phone_day.server.database_url)

    def positions() -> list[tuple[float, float]]:
        with Session(engine) as session:
            rows = session.exec(
                select(CourierPosition).where(col(CourierPosition.courier_id) == "c1")
            )
            return [(p.lat, p.lon) for p in rows]

    before = positions()
    context, watch = _vietnamese_phone(browser, phone_day, "c1")
    context.grant_permissions(["geolocation"], origin=phone_day.base_url)
    context.set_geolocation({"latitude": 9.0712, "longitude": 104.9893, "accuracy": 8})
    page = watch_page(context, watch)
    page.goto(phone_day.stops_url)
    page.wait_for_selector("html[data-courier-ready]")
    page.wait_for_function(
        """() => new Promise(done => {
             const open = indexedDB.open("buuta-courier");
             open.onsuccess = () => {
               const all = open.result.transaction("positions").objectStore("positions").count();
               all.onsuccess = () => done(all.result === 0);
             };
           })""",
        timeout=30_000,
    )
    for _ in range(50):
        if len(positions()) > len(before):
            break
        page.wait_for_timeout(200)
    assert (9.0712, 104.9893) in positions()
    engine.dispose()
    watch.assert_clean()
    context.close()
