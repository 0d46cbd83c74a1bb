"""The request book's and the roster's pages on a real server, SQLite and PostgreSQL, posted as
a browser without JavaScript would (form fields, the session cookie): who may open them, what a
refused form shows, and that nothing is stored when a form is refused.

The browser walk (import, a dragged pin, the hotline form, a shift) is in
``tests/browser/test_request_book_pages.py``; these are the edges around it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.api_day import auth, small_request, today_vn
from tests.api.conftest import Day


def cookie(day: Day, user: str) -> dict[str, str]:
    return {"Cookie": f"buuta_token={day.tokens[user]}"}


def page(day: Day, user: str, path: str, **kwargs: Any) -> Any:
    """GET a page as ``user`` with the session cookie, redirects not followed."""
    return day.client.get(
        f"{day.url}{path}", headers=cookie(day, user), follow_redirects=False, **kwargs
    )


def post(day: Day, user: str, path: str, **kwargs: Any) -> Any:
    """POST a form as ``user`` with the session cookie, redirects not followed."""
    headers = {**cookie(day, user), **kwargs.pop("headers", {})}
    return day.client.post(f"{day.url}{path}", headers=headers, follow_redirects=False, **kwargs)


def field_errors(html: str) -> dict[str, str]:
    """The errors a page shows beside its fields, by field."""
    found = re.findall(r'class="[^"]*field-error" data-field="([^"]+)">([^<]+)<', html)
    return dict(found)


def roster_now(day: Day) -> dict[str, Any]:
    answer = day.client.get(f"{day.url}/v1/roster", headers=auth(day.tokens["disp1"]))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.fixture(scope="module")
def book_day(day: Day) -> str:
    """The small day's roster stored; the book's day is the day after tomorrow."""
    roster = {k: small_request(day.date)[k] for k in ("sites", "shuttles", "couriers")}
    answer = day.client.put(f"{day.url}/v1/roster", json=roster, headers=auth(day.tokens["disp1"]))
    assert answer.status_code == 200, answer.text
    return (date.fromisoformat(today_vn()) + timedelta(days=2)).isoformat()


def test_pages_need_their_roles(day: Day, book_day: str) -> None:
    """No cookie: to the log-in form; a courier: 403; staff read the book but not the forms."""
    answer = day.client.get(f"{day.url}/requests", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    for path in ("/requests", "/roster", "/requests/new", "/requests/import"):
        assert page(day, "c1", path).status_code == 403, path
    assert page(day, "staff1", f"/requests?date={book_day}").status_code == 200
    assert page(day, "staff1", "/roster").status_code == 200
    assert page(day, "staff1", "/requests/new").status_code == 403
    assert post(day, "staff1", "/requests/new", data={"dossier": "X"}).status_code == 403
    assert post(day, "staff1", "/roster", data={}).status_code == 403


def test_a_day_that_is_not_one_answers_in_words(day: Day) -> None:
    """A bad ?date= is refused before anything is read (the page's pattern: 422)."""
    assert page(day, "disp1", "/requests?date=31/02/2026").status_code == 422
    assert page(day, "disp1", "/requests?date=tomorrow").status_code == 422


def test_the_form_books_once_and_a_resent_form_changes_nothing(day: Day, book_day: str) -> None:
    """Posting the same form twice (a double click) books one request: its code is made when
    the form is shown."""
    form = page(day, "disp1", f"/requests/new?date={book_day}").text
    code = re.search(r'name="id" value="([^"]+)"', form)
    assert code is not None
    shown = "/".join(reversed(book_day.split("-")))
    data = {"id": code.group(1), "kind": "return", "dossier": "H12.22-PG-0001", "date": shown,
            "window_from": "13h", "window_to": "16:00", "lat": "9.185", "lon": "105.139",
            "origin_site": "po-cm", "ready_at": "10:50", "due": shown,
            "citizen_name": "Đỗ Văn Phúc", "citizen_phone": "0977 000 111",
            "citizen_id": "096080009876"}  # fmt: skip
    for _attempt in range(2):
        answer = post(day, "disp1", "/requests/new", data=data)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == f"/requests?date={book_day}&booked={code.group(1)}"
    listed = day.client.get(
        f"{day.url}/v1/requests", params={"date": book_day}, headers=auth(day.tokens["staff1"])
    ).json()["data"]
    mine = [r for r in listed if r["dossier"] == "H12.22-PG-0001"]
    assert len(mine) == 1
    assert mine[0]["window"] == ["13:00", "16:00"] and mine[0]["due"] == book_day
    assert mine[0]["citizen"]["has_id_number"] is True
    shown_page = page(day, "disp1", f"/requests?date={book_day}&booked={code.group(1)}").text
    assert 'id="booked"' in shown_page and "Đỗ Văn Phúc" in shown_page


def test_a_refused_form_names_each_field_in_vietnamese(day: Day, book_day: str) -> None:
    """Missing dossier and window, a day that is not one, an ID of 5 digits: each error sits
    beside its field, in Vietnamese, and nothing is stored."""
    data = {"id": "HL-PG-BAD", "kind": "pickup", "date": "30/02/2026", "address": "x"}
    answer = post(day, "disp1", "/requests/new", data=data)
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert errors["dossier"] == "Bắt buộc."
    assert errors["date"] == "Không phải ngày: hãy ghi theo dạng dd/mm/yyyy."
    assert errors["window_from"] == "Bắt buộc." and errors["window_to"] == "Bắt buộc."
    assert 'value="x"' in answer.text  # what was typed is kept
    assert "Traceback" not in answer.text

    shown = "/".join(reversed(book_day.split("-")))
    data = {"id": "HL-PG-BAD", "kind": "pickup", "dossier": "H12.22-PG-0002", "date": shown,
            "window_from": "08:00", "window_to": "09:00", "address": "Ấp 3, xã Khánh Bình",
            "citizen_id": "12345"}  # fmt: skip
    answer = post(day, "disp1", "/requests/new", data=data)
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert errors == {
        "handoff_site": "Nhận hồ sơ tại nhà cần có bưu cục bàn giao hồ sơ.",
    }
    data["handoff_site"] = "po-tvt"
    errors = field_errors(post(day, "disp1", "/requests/new", data=data).text)
    assert errors == {"citizen_id": "Số CCCD gồm 9 hoặc 12 chữ số."}
    listed = day.client.get(
        f"{day.url}/v1/requests", params={"date": book_day}, headers=auth(day.tokens["staff1"])
    ).json()["data"]
    assert "HL-PG-BAD" not in {r["id"] for r in listed}


def test_a_form_from_another_site_is_refused(day: Day) -> None:
    """The session cookie does not book from another site's page (same-origin check)."""
    data = {"id": "HL-PG-X", "kind": "pickup", "dossier": "D", "date": "01/01/2027"}
    forged = post(day, "disp1", "/requests/new", data=data,
                  headers={"Origin": "https://evil.example"})  # fmt: skip
    assert forged.status_code == 403
    assert post(day, "disp1", "/roster", data={}, headers={"Origin": "https://evil.example"}
                ).status_code == 403  # fmt: skip


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xff\xfe\x00garbage", "Tệp không phải Excel (XLSX) cũng không phải CSV mã UTF-8"),
        ("Mã hồ sơ;Ngày\nH1;2026-12-01\n".encode(), "Dòng tiêu đề thiếu cột"),
        (b"PK\x03\x04not really a workbook", "Không đọc được tệp Excel."),
        (b"", "Hãy chọn một tệp CSV hoặc XLSX trước."),
    ],
)
def test_an_unreadable_file_stores_nothing_and_says_why(
    day: Day, content: bytes, words: str
) -> None:
    """Each unreadable file answers 422 with the reason in Vietnamese; no traceback."""
    answer = post(
        day, "disp1", "/requests/import",
        files={"file": ("book.csv", content)}, data={"action": "import"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert words in answer.text
    assert 'id="import-problem"' in answer.text and "Traceback" not in answer.text


def test_a_preview_carries_its_file_to_the_import(day: Day, book_day: str) -> None:
    """The preview stores nothing and carries the file; importing it stores the good row."""
    csv = (
        "id,kind,dossier,date,window_from,window_to,lat,lon,handoff_site\n"
        f"IM-PG-1,pickup,H12.22-IM-1,{book_day},08:00,10:00,9.17,105.16,po-cm\n"
        f"IM-PG-2,pickup,H12.22-IM-2,{book_day},08:00,10:00,9.17,,po-cm\n"
    ).encode()
    preview = post(day, "disp1", "/requests/import",
                   files={"file": ("ngay.csv", csv)}, data={"action": "preview"})  # fmt: skip
    assert preview.status_code == 200
    assert 'data-dry-run="yes"' in preview.text
    assert "Kinh độ: Hãy ghi cả vĩ độ và kinh độ, hoặc bỏ trống cả hai." in preview.text
    carried = re.search(r'name="carried" value="([^"]+)"', preview.text)
    assert carried is not None
    ids = lambda: {  # noqa: E731
        r["id"]
        for r in day.client.get(
            f"{day.url}/v1/requests", params={"date": book_day}, headers=auth(day.tokens["staff1"])
        ).json()["data"]
    }
    assert "IM-PG-1" not in ids()
    done = post(day, "disp1", "/requests/import",
                data={"action": "import", "carried": carried.group(1), "filename": "ngay.csv"},
                files={"file": ("", b"")})  # fmt: skip
    assert done.status_code == 200 and 'data-dry-run="no"' in done.text
    assert "IM-PG-1" in ids() and "IM-PG-2" not in ids()


def test_roster_form_adds_removes_and_refuses_without_storing(day: Day, book_day: str) -> None:
    """A new site is added and a run removed; a latitude that is not a number and a courier
    starting at an unknown office are each shown beside their field, nothing stored."""
    del book_day
    before = roster_now(day)
    html = page(day, "disp1", "/roster").text
    fields = dict(re.findall(r'<input name="([^"]+)" id="[^"]+" type="text"[^>]*value="([^"]*)"',
                             html))  # fmt: skip
    fields |= dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', html))
    selects = re.findall(r'<select name="([^"]+)".*?</select>', html, flags=re.S)
    for name in selects:  # the chosen option of each select, as a browser posts it
        block = re.search(rf'<select name="{re.escape(name)}".*?</select>', html, flags=re.S)
        assert block is not None
        chosen = re.search(r'<option value="([^"]*)" selected>', block.group(0))
        fields[name] = chosen.group(1) if chosen else ""
    new_site = len(before["sites"])
    fields |= {f"sites-{new_site}-id": "po-tb", f"sites-{new_site}-kind": "post_office",
               f"sites-{new_site}-name": "Bưu điện Thới Bình", f"sites-{new_site}-lat": "9,35",
               f"sites-{new_site}-lon": "105.16", "couriers-1-start_site": "po-nowhere",
               "shuttles-3-remove": "1"}  # fmt: skip
    refused = post(day, "disp1", "/roster", data=fields)
    assert refused.status_code == 422
    errors = field_errors(refused.text)
    assert errors == {f"sites-{new_site}-lat": "Phải là một số."}, errors
    assert roster_now(day)["sites"] == before["sites"]

    fields[f"sites-{new_site}-lat"] = "9.35"
    refused = post(day, "disp1", "/roster", data=fields)
    assert refused.status_code == 422
    assert field_errors(refused.text) == {
        "couriers-1-start_site": "Không có điểm phục vụ po-nowhere trong danh sách."
    }
    assert roster_now(day)["couriers"] == before["couriers"]

    fields["couriers-1-start_site"] = "po-tb"
    saved = post(day, "disp1", "/roster", data=fields)
    assert saved.status_code == 303 and saved.headers["location"] == "/roster?saved=1"
    after = roster_now(day)
    assert [s["id"] for s in after["sites"]] == [*(s["id"] for s in before["sites"]), "po-tb"]
    added = {"id": "po-tb", "kind": "post_office", "name": "Bưu điện Thới Bình",
             "lat": 9.35, "lon": 105.16}  # fmt: skip
    assert after["sites"][-1] == added
    assert [r["id"] for r in after["shuttles"]] == [r["id"] for r in before["shuttles"][:3]]
    assert after["couriers"][1]["start_site"] == "po-tb"
    assert after["couriers"][1]["end_site"] == before["couriers"][1]["end_site"]


def test_a_dossier_booked_twice_is_flagged_and_one_cancelled(day: Day, book_day: str) -> None:
    """The book flags both requests of one dossier; cancelling one from the page (a form, no
    JavaScript) clears the flag; staff may not cancel, an unknown request answers 404."""
    item = {"kind": "pickup", "dossier": "H12.22-TW-0001", "date": book_day, "lat": 9.17,
            "lon": 105.16, "window": ["08:00", "10:00"], "handoff_site": "po-cm"}  # fmt: skip
    answer = day.client.post(
        f"{day.url}/v1/requests",
        json=[{**item, "id": "TW-1"}, {**item, "id": "TW-2"}],
        headers=auth(day.tokens["disp1"]),
    )
    assert answer.status_code == 200, answer.text
    html = page(day, "disp1", f"/requests?date={book_day}").text
    assert "ghi hai lần (cùng với TW-2)" in html and "ghi hai lần (cùng với TW-1)" in html
    assert post(day, "staff1", "/requests/TW-2/cancel").status_code == 403
    cancelled = post(day, "disp1", "/requests/TW-2/cancel")
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == f"/requests?date={book_day}"
    html = page(day, "disp1", f"/requests?date={book_day}").text
    assert "cùng với TW-2" not in html and "cùng với TW-1" not in html
    assert 'data-cancel="TW-2"' not in html and 'data-cancel="TW-1"' in html
    listed = day.client.get(
        f"{day.url}/v1/requests", params={"date": book_day}, headers=auth(day.tokens["staff1"])
    ).json()["data"]
    assert {r["id"]: r["status"] for r in listed}["TW-2"] == "cancelled"
    missing = post(day, "disp1", "/requests/NO-SUCH/cancel")
    assert missing.status_code == 404 and "Không có yêu cầu NO-SUCH." in missing.text


_FORM_KEYS = st.sampled_from([
    "sites-0-id", "sites-0-lat", "sites-9-lon", "sites-0-opening-1", "couriers-0-shift-0",
    "couriers-0-shift-1", "couriers-1-breaks-0-earliest", "couriers-1-breaks-7-duration_min",
    "couriers-0-capacity", "couriers-0-mode", "couriers-0-skills", "couriers-0-start_site",
    "couriers-5-id", "shuttles-0-departs", "shuttles-2-remove", "couriers-0-orig",
    "sites--x", "couriers-99999999999-id", "other", "couriers-0-breaks-x-latest",
])  # fmt: skip
_FORM_VALUES = st.one_of(
    st.sampled_from(["", "07:00", "25:61", "-1", "1e309", "nan", "po-cm", "boat, ghe", "1"]),
    st.text(max_size=30),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fields=st.lists(st.tuples(_FORM_KEYS, _FORM_VALUES), max_size=12))
def test_any_roster_form_is_answered_without_a_server_error(
    day: Day, book_day: str, fields: list[tuple[str, str]]
) -> None:
    """Whatever a roster form holds, the page answers 303 (stored) or 422 (in words, nothing
    stored), never a 5xx or a traceback; the roster stays one the planner accepts."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    del book_day  # the roster is stored
    answer = post(day, "disp1", "/roster", content=urlencode(fields), headers=form)
    assert answer.status_code in (303, 422), answer.text[:500]
    assert "Traceback" not in answer.text
    stored = roster_now(day)
    assert stored["sites"] and stored["couriers"]  # never emptied by a stray row


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.dictionaries(st.sampled_from(["id", "kind", "dossier", "date", "window_from",
                                               "window_to", "address", "lat", "lon", "due",
                                               "handoff_site", "citizen_id", "window"]),
                              _FORM_VALUES, max_size=10),
       action=st.sampled_from(["book", "check"]))  # fmt: skip
def test_any_hotline_form_is_answered_without_a_server_error(
    day: Day, book_day: str, values: dict[str, str], action: str
) -> None:
    """Whatever the hotline form holds, booking it answers 303 (booked) or 422 (in words), and
    checking its free windows 200 (the windows) or 422 (in words)."""
    del book_day  # the roster is stored
    answer = post(day, "disp1", "/requests/new", data={**values, "action": action})
    assert answer.status_code in ((303, 422) if action == "book" else (200, 422)), answer.text[:500]
    assert "Traceback" not in answer.text


def test_a_point_typed_on_the_book_page_is_stored(day: Day, book_day: str) -> None:
    """Without JavaScript an uncertain request's point is typed (a comma as decimal mark
    too) and stored as set by hand; a word instead of a number is refused in words."""
    item = {"id": "TP-1", "kind": "pickup", "dossier": "H12.22-TP-0001", "date": book_day,
            "address": "xã Tân Lộc, huyện Thới Bình", "window": ["08:00", "10:00"],
            "handoff_site": "po-cm"}  # fmt: skip
    answer = day.client.post(
        f"{day.url}/v1/requests", json=[item], headers=auth(day.tokens["disp1"])
    )
    assert answer.json()["results"][0]["status"] == "created", answer.text
    html = page(day, "disp1", f"/requests?date={book_day}").text
    assert 'action="/requests/TP-1/position"' in html
    refused = post(day, "disp1", "/requests/TP-1/position", data={"lat": "north", "lon": "1"})
    assert refused.status_code == 422 and "Vĩ độ và kinh độ phải là số độ" in refused.text
    assert post(day, "staff1", "/requests/TP-1/position",
                data={"lat": "9.3", "lon": "105.2"}).status_code == 403  # fmt: skip
    stored = post(day, "disp1", "/requests/TP-1/position", data={"lat": "9,301", "lon": "105.231"})
    assert stored.status_code == 303
    listed = day.client.get(
        f"{day.url}/v1/requests", params={"date": book_day}, headers=auth(day.tokens["staff1"])
    ).json()["data"]
    mine = next(r for r in listed if r["id"] == "TP-1")
    assert (mine["lat"], mine["lon"], mine["geocoded"]["precision"]) == (9.301, 105.231, "manual")
    html = page(day, "disp1", f"/requests?date={book_day}").text
    assert 'action="/requests/TP-1/position"' not in html  # no longer uncertain
