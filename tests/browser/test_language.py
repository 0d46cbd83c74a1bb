"""Every page, opened in Chromium as each role, speaks Vietnamese; ?lang=en gives English.

A page passes when its ``<html lang>`` is right and its visible text (``innerText``, plus the
text of a map's popups) holds no English interface word (``tests.i18n.english``: the words of
the catalogue's English msgids that no Vietnamese msgstr uses; data such as names and codes is
not made of them). Screenshots at desktop (1280×800) and phone (390×844) sizes go to
``test-artifacts/browser/language/``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.book import seed_book
from tests.browser.conftest import ARTIFACTS, Day, open_context, watch_page
from tests.i18n.english import english_left

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "language"


def pages_of(day: Day) -> dict[str | None, list[tuple[str, str]]]:
    """(name, path) of every page each user opens; None is a visitor who is not logged in.

    The request book's pages show tomorrow's book of :func:`tests.browser.book.seed_book`
    (a roster, uncertain pins, a dossier booked twice)."""
    plan = day.plan["plan_id"]
    maps = [
        ("plan-map", f"/plans/{plan}/map"),
        ("progress-map", f"/progress?date={day.date}"),
        ("journey-map", "/dossiers/H12.22-261123-0001/map"),
    ]
    book_day = seed_book(day)
    book = [("requests", f"/requests?date={book_day}"), ("roster", "/roster")]
    editing = [("request-form", f"/requests/new?date={book_day}"),
               ("request-import", "/requests/import")]  # fmt: skip
    staff = [("dispatch", f"/dispatch?date={day.date}"), *maps, *book]
    return {
        None: [
            ("home", "/"),
            ("login", "/login"),
            ("offline", "/offline"),
            ("not-found", "/no-such-page"),
        ],
        "d1": [*staff, *editing],
        "s1": staff,
        "a1": [("dispatch", f"/dispatch?date={day.date}"), maps[0], *book, *editing],
        day.active: [
            ("stops", f"/couriers/{day.active}/stops?date={day.date}"),
            ("forbidden", f"/dispatch?date={day.date}"),
        ],
    }


def visible_text(page: Any) -> str:
    """The page's visible text, and on a map the text of one popup of each kind of marker.

    Codes shown as data (``<code>``: dossier codes, site and plan ids) are left out.
    """
    page.add_style_tag(content="code { display: none !important; }")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    text = str(page.evaluate("document.body.innerText"))
    if page.locator(".leaflet-container").count():
        titles = page.eval_on_selector_all("[title]", "els => els.map(e => e.title)")
        text += "\n" + "\n".join(titles)  # tooltips: the zoom buttons, the markers
        pins = ".leaflet-marker-icon[data-request]"  # the request book's uncertain pins
        for kind in (".buuta-site", ".buuta-stop", ".buuta-unassigned", ".buuta-position", pins):
            marker = page.locator(kind)
            if marker.count():
                marker.first.dispatch_event("click")
                text += "\n" + page.locator(".leaflet-popup-content").last.inner_text()
        layers = page.locator(".leaflet-control-layers")
        if layers.count():
            layers.first.hover()  # opens the list of layer names
            text += "\n" + layers.first.inner_text()
    return text


def open_page(browser: Any, day: Day, user: str | None, path: str, **options: Any) -> Any:
    """Open ``path`` as ``user`` and wait until it is drawn; returns (context, page, status)."""
    context, watch = open_context(browser, day, user, **options)
    page = watch_page(context, watch)
    answer = page.goto(day.base_url + path)
    if page.locator(".leaflet-container").count():
        page.wait_for_load_state("networkidle")
    assert watch.blocked == []
    return context, page, answer.status if answer is not None else None


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_page_speaks_vietnamese_to_every_role(browser: Any, day: Day, size: str) -> None:
    """lang="vi" and no English interface word on any page, as each role, at both sizes."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for user, pages in pages_of(day).items():
        for name, path in pages:
            context, page, status = open_page(browser, day, user, path, phone=size == "phone")
            assert status in {200, 403, 404}, (user, path, status)
            lang = page.locator("html").get_attribute("lang")
            if lang != "vi":
                problems.append(f"{path} as {user}: <html lang={lang!r}>")
            page.screenshot(path=str(SHOTS / f"{name}-{user or 'visitor'}-{size}.png"),
                            full_page=True)  # fmt: skip
            left = english_left(visible_text(page))
            if left:
                problems.append(f"{path} as {user}: English words {left}")
            context.close()
    assert problems == [], "\n".join(problems)


def test_english_on_request_and_remembered(browser: Any, day: Day) -> None:
    """?lang=en gives the English page; the next pages stay English (cookie); ?lang=vi goes back."""
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/dispatch?date={day.date}&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().startswith("Dispatch · ")
    page.screenshot(path=str(SHOTS / "dispatch-d1-english.png"), full_page=True)
    page.click("text=Plan map")  # no ?lang on this link: the cookie remembers
    page.wait_for_selector(".leaflet-container")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Plan " in page.locator(".buuta-legend summary").inner_text()
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Zoom in"
    page.screenshot(path=str(SHOTS / "plan-map-d1-english.png"))
    page.goto(f"{day.base_url}/dispatch?date={day.date}")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("text=Tiếng Việt")  # the switch in the header
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text().startswith("Điều phối · ")
    page.goto(f"{day.base_url}/progress?date={day.date}")
    assert page.locator("html").get_attribute("lang") == "vi"
    watch.assert_clean()
    context.close()


def test_an_english_browser_gets_english_and_can_switch(browser: Any, day: Day) -> None:
    """A browser set to English is answered in English; the switch brings Vietnamese."""
    context, watch = open_context(browser, day, None, locale="en-US")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Look up a dossier" in page.locator("body").inner_text()
    page.click("text=Tiếng Việt")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "Tra cứu hồ sơ" in page.locator("body").inner_text()
    watch.assert_clean()
    context.close()


def test_courier_day_field_shows_and_takes_dd_mm_yyyy(browser: Any, day: Day) -> None:
    """The courier's day field shows dd/mm/yyyy too (a phone's date input would show the US
    order) and a typed day opens that day's stop list."""
    context, watch = open_context(browser, day, "c1", phone=True)
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/couriers/c1/stops?date={day.date}")
    field = page.locator("form.pick-date input[name=date]")
    assert field.input_value() == "/".join(reversed(day.date.split("-")))
    field.fill("23/11/2026")
    page.click("form.pick-date button[type=submit]")
    page.wait_for_url("**/couriers/c1/stops?date=23%2F11%2F2026")
    assert page.locator("h1").inner_text().endswith("23/11/2026")
    assert field.input_value() == "23/11/2026"
    watch.assert_clean()
    context.close()


def test_day_field_shows_and_takes_dd_mm_yyyy(browser: Any, day: Day) -> None:
    """The dispatcher's day field shows dd/mm/yyyy and a typed day opens that day's page."""
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/dispatch?date={day.date}")
    shown = "/".join(reversed(day.date.split("-")))
    assert page.locator("#date").input_value() == shown
    page.fill("#date", "23/11/2026")
    page.click("form.pick-date button[type=submit]")
    page.wait_for_url("**/dispatch?date=23%2F11%2F2026")
    assert page.locator("h1").inner_text() == "Điều phối · 23/11/2026"
    assert page.locator("#date").input_value() == "23/11/2026"
    watch.assert_clean()
    context.close()


def test_pages_have_an_icon_and_log_no_404(browser: Any, day: Day) -> None:
    """The favicon is served, so no page logs a 404 for it."""
    context, watch = open_context(browser, day, "d1")
    page = watch_page(context, watch)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(f"{day.base_url}/dispatch?date={day.date}")
    page.wait_for_load_state("networkidle")
    href = page.locator('link[rel="icon"]').get_attribute("href")
    icon = page.request.get(day.base_url + str(href))
    assert icon.status == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert failed == []
    watch.assert_clean()
    context.close()


def test_offline_page_for_a_stop_list_never_loaded(browser: Any, day: Day) -> None:
    """Offline, a stop list the phone never loaded shows the Vietnamese offline page kept by
    the service worker, not the browser's own error."""
    context, watch = open_context(browser, day, day.active, phone=True, service_workers="allow")
    page = watch_page(context, watch)
    page.goto(f"{day.base_url}/couriers/{day.active}/stops?date={day.date}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function("caches.match('/offline').then(r => r !== undefined)")
    context.set_offline(True)
    page.goto(f"{day.base_url}/couriers/{day.active}/stops?date=2020-01-01")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == "Mất kết nối"
    page.screenshot(path=str(SHOTS / "offline-never-loaded-phone.png"), full_page=True)
    context.set_offline(False)
    assert watch.blocked == []
    context.close()
