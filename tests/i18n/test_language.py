"""Which language a page speaks, and how it formats dates, times and money (DESIGN §11).

The HTTP tests run buuta's real server (``tests.support.server``) on a real SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

import tracking
from api import i18n
from api.words import REASONS, reason_words, status_explanation, status_words
from routing.clock import local_now
from tests.support.loop import run_alone
from tests.support.server import serve, sqlite_url


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        (None, None, None, "vi"),  # nothing said: Vietnamese
        (None, None, "en-US,en;q=0.9", "en"),
        (None, None, "fr-FR,fr;q=0.9", "vi"),  # neither offered language: the default
        (None, None, "en;q=0.5, vi;q=0.8", "vi"),  # by weight, not by order
        (None, None, "vi-VN, en;q=0.9", "vi"),
        (None, None, "en;q=0", "vi"),  # q=0 means "not this one"
        (None, "en", "vi", "en"),  # the remembered choice beats the browser
        ("vi", "en", "en", "vi"),  # ?lang= beats everything
        ("EN", None, None, "en"),
        ("fr", "en", None, "en"),  # an unknown ?lang= is ignored
    ],
)
def test_locale_from_follows_query_cookie_header_default(
    query: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    """?lang=, then the cookie, then Accept-Language (by q), then Vietnamese."""
    assert i18n.locale_from(query_lang=query, cookie=cookie, accept_language=accept) == expected


def test_formats_in_vietnamese_and_english() -> None:
    """dd/mm/yyyy, 24-hour Vietnam time, Vietnamese separators and the đồng sign."""
    moment = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)  # 20:05 in Vietnam
    with i18n.use_locale("vi"):
        assert i18n.format_day("2026-11-23") == "23/11/2026"
        assert i18n.format_day(date(2026, 3, 4)) == "04/03/2026"
        assert i18n.format_day(datetime(2026, 11, 23, 20, 0, tzinfo=UTC)) == "24/11/2026"
        assert i18n.format_hhmm(moment) == "20:05"
        assert i18n.format_hhmm("2026-11-23T08:05:00+07:00") == "08:05"
        assert i18n.format_money(13_000) == "13.000\xa0₫"
        assert i18n.format_km(32.5) == "32,5"
        assert i18n.format_number(1234567) == "1.234.567"
    with i18n.use_locale("en"):
        assert i18n.format_day("2026-11-23") == "23/11/2026"
        assert i18n.format_hhmm(moment) == "20:05"
        assert i18n.format_money(13_000) == "13,000\xa0₫"
        assert i18n.format_km(32.5) == "32.5"


def test_gettext_fills_named_variables_and_plurals() -> None:
    """Variables go in by name in both languages; ngettext gives %(num)s."""
    with i18n.use_locale("vi"):
        text = i18n.gettext("There is no plan %(plan)s.", plan="'p-1'")
        assert text == "Không có kế hoạch 'p-1'."
    with i18n.use_locale("en"):
        assert i18n.gettext("There is no plan %(plan)s.", plan="'p-1'") == "There is no plan 'p-1'."
        assert i18n.ngettext("%(num)s stop", "%(num)s stops", 2) == "2 stops"
    with pytest.raises(ValueError, match="locale"), i18n.use_locale("fr"):
        pass


def test_one_template_environment_serves_two_languages_at_once(tmp_path: Path) -> None:
    """The shared Jinja environment reads each thread's language: 8 threads in turn Vietnamese
    and English render the same template at once and each gets its own words."""
    from concurrent.futures import ThreadPoolExecutor

    (tmp_path / "t.html").write_text(
        '<html lang="{{ current_locale() }}">{{ _("Log in") }} {{ 13000|money }}</html>',
        encoding="utf-8",
    )
    env = i18n.template_environment(tmp_path)

    def render(n: int) -> str:
        with i18n.use_locale("vi" if n % 2 else "en"):
            return env.get_template("t.html").render()

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(render, range(64)))
    for n, page in enumerate(pages):
        if n % 2:
            assert page == '<html lang="vi">Đăng nhập 13.000\xa0₫</html>'
        else:
            assert page == '<html lang="en">Log in 13,000\xa0₫</html>'


def test_every_reason_and_status_has_words() -> None:
    """Each routing reason code reads as a sentence; unknown codes show as they are."""
    from routing.dossiers import REASONS as CODES
    from tracking.lifecycle import Status

    assert set(CODES) <= set(REASONS)
    with i18n.use_locale("vi"):
        assert reason_words("window_unreachable") == "Không kịp giờ hẹn của người dân"
        assert reason_words("a_new_code") == "a_new_code"
        for status in Status:
            assert status_words(status.value) != status.value
            assert status_explanation(status.value)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A server on a fresh SQLite file with a dispatcher, a staff member and a courier."""
    directory: Path = tmp_path_factory.mktemp("i18n-db")
    url = sqlite_url(directory)
    with serve(url) as server:
        engine = tracking.make_engine(url)
        tokens = {}
        with Session(engine) as session:
            for name, role in (("d1", "dispatcher"), ("s1", "staff"), ("c1", "courier"),
                               ("a1", "admin")):  # fmt: skip
                _, tokens[name] = tracking.create_user(session=session, name=name, role=role)
            session.commit()
        engine.dispose()
        yield server.base_url, tokens


def client(site: Any, **headers: str) -> httpx.Client:
    """A fresh client (no cookies) for the server."""
    return httpx.Client(base_url=site[0], timeout=30, headers=headers)


def test_login_page_is_vietnamese_by_default_and_english_on_request(site: Any) -> None:
    """lang="vi" and Vietnamese words by default; ?lang=en switches and is remembered."""
    with client(site) as c:
        page = c.get("/login")
        assert '<html lang="vi">' in page.text and "Đăng nhập" in page.text
        assert page.headers["content-language"] == "vi"
        english = c.get("/login?lang=en")
        assert '<html lang="en">' in english.text and "Log in" in english.text
        assert "buuta_lang=en" in english.headers["set-cookie"]
        again = c.get("/login")  # the cookie remembers it
        assert '<html lang="en">' in again.text
        back = c.get("/login?lang=vi")
        assert '<html lang="vi">' in back.text
        assert '<html lang="vi">' in c.get("/login").text
    with client(site, **{"Accept-Language": "en-GB,en;q=0.8"}) as c:
        assert '<html lang="en">' in c.get("/login").text


def test_home_sends_each_role_to_its_work(site: Any) -> None:
    """/ redirects by role; anonymous visitors get the log-in form and the public look-up."""
    with client(site) as c:
        anonymous = c.get("/")
        assert anonymous.status_code == 200
        assert 'href="/tra-cuu"' in anonymous.text and 'action="/login"' in anonymous.text
        assert "Tra cứu hồ sơ" in anonymous.text
    today = local_now().date().isoformat()
    for user, where in (("d1", "/dispatch"), ("s1", "/dispatch"), ("a1", "/dispatch"),
                        ("c1", f"/couriers/c1/stops?date={today}")):  # fmt: skip
        with client(site) as c:
            c.cookies.set("buuta_token", site[1][user])
            answer = c.get("/")
            assert answer.status_code == 303, user
            assert answer.headers["location"] == where, user


def test_favicon_and_offline_page_are_served(site: Any) -> None:
    """The icon every browser asks for exists; the offline page speaks the language."""
    with client(site) as c:
        icon = c.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
        assert icon.text.startswith("<svg")
        assert "Mất kết nối" in c.get("/offline").text
        assert "No connection" in c.get("/offline?lang=en").text


def test_browser_errors_are_pages_and_the_api_stays_json(site: Any) -> None:
    """An unknown page is an HTML 404 in Vietnamese; the API's 404 and 401 stay JSON codes."""
    with client(site, Accept="text/html,application/xhtml+xml") as c:
        page = c.get("/no-such-page")
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert '<html lang="vi">' in page.text and "Không tìm thấy trang" in page.text
        assert "Page not found" in c.get("/no-such-page?lang=en").text
        api = c.get("/v1/plans/nope", headers={"Accept": "text/html"})
        assert api.status_code == 401 and api.json()["error"] == "unauthorized"
    with client(site) as c:
        answer = c.get("/no-such-page")
        assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_forbidden_page_names_the_role_in_words(site: Any) -> None:
    """A courier opening the dispatch page reads why, in Vietnamese, with the role's name."""
    with client(site) as c:
        c.cookies.set("buuta_token", site[1]["c1"])
        page = c.get("/dispatch")
        assert page.status_code == 403
        assert "Không được phép" in page.text and "Bưu tá" in page.text
        assert "courier" not in page.text.lower().replace("buuta_", "")


def test_a_typed_day_in_dd_mm_yyyy_is_understood(site: Any) -> None:
    """The date field takes what a person types (23/11/2026) as well as the ISO form."""
    with client(site) as c:
        c.cookies.set("buuta_token", site[1]["d1"])
        typed = c.get("/dispatch", params={"date": "23/11/2026"})
        iso = c.get("/dispatch", params={"date": "2026-11-23"})
        assert typed.status_code == iso.status_code == 200
        assert "23/11/2026" in typed.text
        bad = c.get("/dispatch", params={"date": "31/02/2026"})
        assert bad.status_code == 422 and "dd/mm/yyyy" in bad.text
        garbage = c.get("/dispatch", params={"date": "abc"}, headers={"Accept": "text/html"})
        assert garbage.status_code == 422 and "Yêu cầu không hợp lệ" in garbage.text
        assert "date" in garbage.text
        api = c.get("/v1/plans", params={"date": "abc"}, headers={"Accept": "text/html"})
        assert api.status_code == 422 and api.json()["error"] == "invalid_request"


def test_a_crash_is_a_500_page_for_a_browser_and_json_for_the_api(tmp_path: Path) -> None:
    """An unexpected error on a page answers an HTML 500 in the visitor's language; on the API
    it stays the JSON {"error": "internal"} (the real app and its middleware)."""
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'b.sqlite'}"))

    @app.get("/boom")
    @app.get("/v1/boom")
    def boom() -> None:
        msg = "a bug"
        raise RuntimeError(msg)

    async def calls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        html = {"Accept": "text/html"}
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://buuta") as client,
        ):
            return [
                await client.get("/boom", headers=html),
                await client.get("/boom?lang=en", headers=html),
                await client.get("/v1/boom", headers=html),
            ]

    page, english, api = run_alone(calls())
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in page.text and "Đã có lỗi" in page.text
    assert "a bug" not in page.text
    assert english.status_code == 500 and "Something went wrong" in english.text
    assert api.status_code == 500 and api.json()["error"] == "internal"
