"""The pages over HTTP: access rules, redirects, errors, personal data.

The server is buuta's real service (``tests.support.server``) on a real SQLite file; the day
is the tiny hand-made plan of ``tests/maps/conftest.py`` stored through
``tracking.store_plan``, so no solve is needed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

import tracking
from tests.maps.conftest import PLAN, REQUEST
from tests.support.server import serve, sqlite_url


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """The server on a fresh SQLite file with the tiny plan stored and four users."""
    directory: Path = tmp_path_factory.mktemp("pages-db")
    url = sqlite_url(directory)
    with serve(url) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        engine = tracking.make_engine(url)
        tokens = {}
        with Session(engine) as session:
            for name, role in (("d1", "dispatcher"), ("s1", "staff"), ("c1", "courier"),
                               ("c2", "courier")):  # fmt: skip
                _, tokens[name] = tracking.create_user(session=session, name=name, role=role)
            tracking.store_plan(
                session=session,
                request=copy.deepcopy(REQUEST),
                plan=copy.deepcopy(PLAN),
                created_by="d1",
            )
            session.commit()
        engine.dispose()
        yield client, tokens


def get(site: Any, path: str, user: str | None) -> Any:
    """GET ``path`` with ``user``'s token in the buuta_token cookie (none if user is None)."""
    client, tokens = site
    client.cookies.clear()
    if user is not None:
        client.cookies.set("buuta_token", tokens[user])
    return client.get(path)


def test_pages_without_a_token_redirect_to_login_and_back(site: Any) -> None:
    """Every page sends an anonymous visitor to /login with the page to come back to."""
    for path in ("/dispatch?date=2026-11-23", "/plans/p-test-1/map", "/progress",
                 "/dossiers/H12.22-261123-0001/map", "/couriers/c1/stops"):  # fmt: skip
        answer = get(site, path, None)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=%2F"), path


def test_login_sets_a_strict_http_only_cookie_and_refuses_open_redirects(site: Any) -> None:
    """A valid token logs in; an outside 'next' is ignored; a bad token is refused."""
    client, tokens = site
    client.cookies.clear()
    answer = client.post(
        "/login",
        content=f"token={tokens['s1']}&next=%2F%2Fevil.example%2F",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dispatch"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    answer = client.post(
        "/login",
        content="token=nope&next=%2Fdispatch",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 401
    assert "Mã truy cập không đúng" in answer.text
    courier = client.post(
        "/login",
        content=f"token={tokens['c1']}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert courier.headers["location"].startswith("/couriers/c1/stops?date=")


def test_bearer_header_works_like_the_cookie(site: Any) -> None:
    """Pages accept the API's Authorization header too (same dependency as the API)."""
    client, tokens = site
    client.cookies.clear()
    answer = client.get("/plans/p-test-1/map", headers={"Authorization": f"Bearer {tokens['d1']}"})
    assert answer.status_code == 200
    assert "L.polyline(" in answer.text


def test_couriers_see_only_their_own_stop_list(site: Any) -> None:
    """c1 reads its list; c1 on c2's list, or on the dispatcher's pages, gets an HTML 403."""
    own = get(site, "/couriers/c1/stops?date=2026-11-23", "c1")
    assert own.status_code == 200
    assert "Bưu điện Trần Văn Thời" in own.text
    for path in ("/couriers/c2/stops?date=2026-11-23", "/dispatch?date=2026-11-23",
                 "/plans/p-test-1/map", "/progress?date=2026-11-23"):  # fmt: skip
        answer = get(site, path, "c1")
        assert answer.status_code == 403, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "Không được phép" in answer.text


def test_stop_list_gives_the_courier_contact_but_never_the_citizen_id(site: Any) -> None:
    """The courier gets the citizen's name and phone (tel: link), never the ID number."""
    page = get(site, "/couriers/c1/stops?date=2026-11-23", "c1").text
    assert 'href="tel:0912345678"' in page
    assert "Nguyễn Văn An" in page
    assert "096123456789" not in page
    assert 'href="geo:9.050000,104.980000' in page
    assert "@media print" in Path("api/static/buuta-pages.css").read_text(encoding="utf-8")


def test_maps_and_dispatch_never_show_personal_data(site: Any) -> None:
    """Plan map, progress map, journey map and dispatch page carry no citizen data."""
    for path in ("/plans/p-test-1/map", "/progress?date=2026-11-23",
                 "/dossiers/H12.22-261123-0001/map", "/dispatch?date=2026-11-23"):  # fmt: skip
        page = get(site, path, "s1").text
        for secret in ("Nguyễn Văn An", "0912345678", "096123456789"):
            assert secret not in page, (path, secret)


def test_bad_requests_get_clear_html_errors(site: Any) -> None:
    """An unknown plan or dossier is a 404 page; a malformed date and courier are named."""
    answer = get(site, "/plans/p-nope/map", "s1")
    assert answer.status_code == 404
    assert "plan_id" in answer.text  # the field is named; the id sent is not echoed
    answer = get(site, "/dossiers/NOPE/map", "s1")
    assert answer.status_code == 404
    answer = get(site, "/dispatch?date=2026-02-30", "s1")
    assert answer.status_code == 422
    assert "2026-02-30" in answer.text
    answer = get(site, "/progress?date=2026-11-23&courier=c9", "s1")
    assert answer.status_code == 422
    assert "bưu tá &#39;c9&#39; không có lộ trình" in answer.text
    answer = get(site, "/progress?date=2026-11-24", "s1")
    assert answer.status_code == 404
    assert "Ngày 24/11/2026 chưa có kế hoạch" in answer.text


def test_dispatch_page_for_staff_has_no_replan_button(site: Any) -> None:
    """Staff read the day's summary; only dispatchers and admins get the re-plan button."""
    staff = get(site, "/dispatch?date=2026-11-23", "s1").text
    assert "3 (2 lượt nhận hồ sơ, 1 lượt trả kết quả)" in staff
    assert "36.000\xa0₫" in staff
    assert "Không kịp giờ hẹn của người dân" in staff  # J9's reason, in a dispatcher's words
    assert "Đến nơi nhận trong ngày" in staff  # kpis.reaching_today of the plan: 2 dossiers
    assert '<td class="reaching-today">2 hồ sơ</td>' in staff
    english = get(site, "/dispatch?date=2026-11-23&lang=en", "s1").text
    assert "3 (2 pickups, 1 return)" in english and "36,000\xa0₫" in english
    assert 'id="replan"' not in staff
    assert 'href="/plans/p-test-1/map"' in staff


def test_static_assets_and_service_worker_are_served(site: Any) -> None:
    """Leaflet, buuta's styles and the service worker come from buuta itself."""
    client, _ = site
    assert client.get("/static/leaflet/leaflet.js").status_code == 200
    assert client.get("/static/buuta-pages.css").status_code == 200
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["service-worker-allowed"] == "/"
    assert client.get("/static/../api/pages.py").status_code == 404


def test_map_pages_link_back_to_the_dispatch_page_of_their_day(site: Any) -> None:
    """The plan and progress maps carry a link back to the dispatcher's page of that plan."""
    page = get(site, "/plans/p-test-1/map", "d1").text
    assert 'class="buuta-back" href="/dispatch?date=2026-11-23&amp;plan=p-test-1"' in page
    page = get(site, "/progress?date=2026-11-23", "d1").text
    assert 'href="/dispatch?date=2026-11-23&amp;plan=p-test-1"' in page
    assert '<meta http-equiv="refresh" content="60">' in page
