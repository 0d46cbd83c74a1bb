"""The hotline form's free windows (issue 11) on a real server, SQLite and PostgreSQL, posted as
a browser without JavaScript would (form fields, the session cookie).

The day is the hand-checked day of ``tests/api/test_slots.py``, planned for tomorrow and so
published: one courier, c1, works 07:00–09:40 from po-cm and has one pickup, Q, booked
09:00–09:10; the windows are 08:00–08:30, 09:05–09:25 and 09:30–09:40. For a citizen living in
Q's house the first is free, the second full because Q would be late (``later_stop_late``), the
third full because c1's shift would end first (``shift_end``); that module's docstring works
the numbers out. The form must show exactly what ``GET /v1/slots`` answers, in words.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.api_day import auth, today_vn
from tests.support.server import create_tokens, serve

USERS = {"disp": "dispatcher", "staff": "staff"}
WINDOWS = "08:00-08:30,09:05-09:25,09:30-09:40"
HOME = {"lat": 9.1702, "lon": 105.1610}
REASON_WORDS = {
    "later_stop_late": "hết chỗ: bưu tá sẽ trễ giờ hẹn của người dân đã đặt trước",
    "shift_end": "hết chỗ: ca làm của bưu tá sẽ kết thúc trước",
}
"""The words the hotline reads for each full window of the day."""


def _day(day: str) -> dict[str, Any]:
    return {
        "date": day,
        "sites": [
            {"id": "centre", "kind": "centre", "name": "Trung tâm", "lat": 9.1769,
             "lon": 105.1524},
            {"id": "po-cm", "kind": "post_office", "name": "Bưu điện Cà Mau", "lat": 9.1795,
             "lon": 105.1445},
        ],
        "shuttles": [{"id": "run-0930", "from_site": "po-cm", "to_site": "centre",
                      "departs": "09:30", "arrives": "09:50", "handoff_min": 10}],
        "couriers": [{"id": "c1", "start_site": "po-cm", "end_site": "po-cm", "capacity": 10,
                      "shift": ["07:00", "09:40"]}],
        "jobs": [{"id": "Q", "kind": "pickup", "dossier": "H12.22-HS-0001", **HOME,
                  "window": ["09:00", "09:10"], "service_min": 10, "handoff_site": "po-cm",
                  "destination_site": "centre"}],
        "options": {"time_limit_s": 5, "solution_limit": 20},
    }  # fmt: skip


def _shown(day: str) -> str:
    """A day as the form shows and takes it (dd/mm/yyyy)."""
    return "/".join(reversed(day.split("-")))


@dataclass
class Hotline:
    """A running server whose tomorrow is planned and published, and its users."""

    url: str
    tokens: dict[str, str]
    client: httpx.Client
    tomorrow: str
    no_roster: httpx.Response
    """The answer to a check made before any roster or plan was stored."""

    def post(self, data: dict[str, str], user: str = "disp") -> httpx.Response:
        """Post the hotline form as ``user`` (the session cookie), redirects not followed."""
        headers = {"Cookie": f"buuta_token={self.tokens[user]}"}
        return self.client.post(
            f"{self.url}/requests/new", data=data, headers=headers, follow_redirects=False
        )

    def form(self, **fields: str) -> dict[str, str]:
        """A pickup at Q's house tomorrow, ``fields`` changed; empty values left out."""
        data = {"id": "HL-HS-1", "kind": "pickup", "dossier": "H12.22-HS-0100",
                "date": _shown(self.tomorrow), "lat": str(HOME["lat"]),
                "lon": str(HOME["lon"]), "handoff_site": "po-cm",
                "destination_site": "centre", "citizen_name": "Trần Thị Hoa",
                "action": "check"}  # fmt: skip
        data.update(fields)
        return {k: v for k, v in data.items() if v}

    def slots(self, day: str, **params: Any) -> dict[str, Any]:
        """What ``GET /v1/slots`` answers for a pickup at Q's house (``params`` changed)."""
        query = {"date": day, "kind": "pickup", "handoff_site": "po-cm", **HOME, **params}
        query = {k: v for k, v in query.items() if v is not None}  # None: leave the field out
        answer = self.client.get(
            f"{self.url}/v1/slots", params=query, headers=auth(self.tokens["staff"])
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def book(self, day: str) -> dict[str, dict[str, Any]]:
        """The requests of ``day``, by id (``GET /v1/requests``)."""
        answer = self.client.get(
            f"{self.url}/v1/requests", params={"date": day}, headers=auth(self.tokens["staff"])
        )
        assert answer.status_code == 200, answer.text
        return {r["id"]: r for r in answer.json()["data"]}


@pytest.fixture(scope="module")
def hotline(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotline]:
    """A server with the windows of the module docstring: a check is made while nothing is
    stored, then tomorrow is planned (published) and the roster stored."""
    log = Path(tmp_path_factory.mktemp("hotline-log")) / "server.log"
    with (
        serve(database_url, env={"BUUTA_SLOT_WINDOWS": WINDOWS}, log_path=log) as server,
        httpx.Client(timeout=60) as client,
    ):
        tokens = create_tokens(database_url, USERS)
        tomorrow = (date.fromisoformat(today_vn()) + timedelta(days=1)).isoformat()
        h = Hotline(server.base_url, tokens, client, tomorrow, no_roster=httpx.Response(0))
        h.no_roster = h.post(h.form())
        day = _day(tomorrow)
        planned = client.post(f"{h.url}/v1/plans", json=day, headers=auth(tokens["disp"]))
        assert planned.status_code == 201, planned.text
        roster = {k: day[k] for k in ("sites", "shuttles", "couriers")}
        stored = client.put(f"{h.url}/v1/roster", json=roster, headers=auth(tokens["disp"]))
        assert stored.status_code == 200, stored.text
        yield h


_OFFER = re.compile(
    r'<label class="slot[^"]*" data-window="(?P<window>[^"]+)" data-free="(?P<free>yes|no)"'
    r'(?: data-reason="(?P<reason>[^"]+)")?>\s*<input type="radio" name="window" '
    r'value="(?P<value>[^"]+)"(?P<attrs>[^>]*)>\s*<span class="time">(?P<label>[^<]+)</span>\s*'
    r'<span class="words">(?P<words>[^<]+)</span>'
)


def offers(page: str) -> list[dict[str, Any]]:
    """The windows a form page offers: each one's value, whether free, reason code, words, and
    whether its radio button is disabled."""
    return [
        {
            "window": m["value"],
            "free": m["free"] == "yes",
            "reason": m["reason"],
            "words": html_lib.unescape(m["words"]),
            "disabled": "disabled" in m["attrs"],
        }
        for m in _OFFER.finditer(page)
    ]


def field_errors(page: str) -> dict[str, str]:
    """The errors a page shows beside its fields, by field."""
    found = re.findall(r'class="[^"]*field-error" data-field="([^"]+)">([^<]+)<', page)
    return {name: html_lib.unescape(words) for name, words in found}


def _as_offers(answer: dict[str, Any]) -> list[tuple[str, bool, str | None]]:
    return [("-".join(w["window"]), w["available"], w["reason"]) for w in answer["windows"]]


def test_the_form_offers_what_the_published_plan_can_still_keep(hotline: Hotline) -> None:
    """Checked for Q's house tomorrow, the form lists the very windows ``GET /v1/slots``
    answers: the free one to choose, the full ones disabled with the same reason in words;
    the courier and its extra minutes are not shown; everything typed is kept."""
    answer = hotline.post(hotline.form())
    assert answer.status_code == 200, answer.text
    shown = offers(answer.text)
    api = hotline.slots(hotline.tomorrow)
    assert api["basis"] == "plan"
    assert [(o["window"], o["free"], o["reason"]) for o in shown] == _as_offers(api)
    # The hand-checked answer (module docstring): one free window, two full ones.
    assert [(o["window"], o["free"], o["reason"]) for o in shown] == [
        ("08:00-08:30", True, None),
        ("09:05-09:25", False, "later_stop_late"),
        ("09:30-09:40", False, "shift_end"),
    ]
    free, late, shift = shown
    assert (free["words"], free["disabled"]) == ("còn nhận", False)
    assert (late["words"], late["disabled"]) == (REASON_WORDS["later_stop_late"], True)
    assert (shift["words"], shift["disabled"]) == (REASON_WORDS["shift_end"], True)
    slots_html = answer.text[answer.text.index('id="slots"') : answer.text.index('id="e-window"')]
    assert 'data-basis="plan"' in answer.text
    assert "c1" not in slots_html and "phút" not in slots_html  # no courier, no extra minutes
    assert 'value="H12.22-HS-0100"' in answer.text and 'value="Trần Thị Hoa"' in answer.text
    assert '<option value="po-cm" selected>' in answer.text
    assert '<details id="other-time">' in answer.text  # the typed window stays tucked away


def test_booking_a_chosen_window_stores_that_window(hotline: Hotline) -> None:
    """The free window chosen is the request's window; sent twice, it is booked once."""
    data = hotline.form(id="HL-HS-BOOK", action="book", window="08:00-08:30")
    for _attempt in range(2):
        answer = hotline.post(data)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"].endswith("booked=HL-HS-BOOK")
    stored = hotline.book(hotline.tomorrow)["HL-HS-BOOK"]
    assert stored["window"] == ["08:00", "08:30"]
    assert (stored["lat"], stored["lon"]) == (HOME["lat"], HOME["lon"])


def test_a_full_window_posted_anyway_is_not_booked(hotline: Hotline) -> None:
    """A full window (a page left open while the day filled, or a forged post) is refused
    beside the list, the windows are shown again, and nothing is stored; a chosen window with
    a typed time as well is refused too."""
    answer = hotline.post(hotline.form(id="HL-HS-FULL", action="book", window="09:05-09:25"))
    assert answer.status_code == 422
    assert field_errors(answer.text) == {"window": "Giờ hẹn này đã hết chỗ: hãy chọn giờ khác."}
    assert [o["window"] for o in offers(answer.text) if o["free"]] == ["08:00-08:30"]
    both = hotline.form(id="HL-HS-FULL", action="book", window="08:00-08:30",
                        window_from="08:00", window_to="09:00")  # fmt: skip
    answer = hotline.post(both)
    assert answer.status_code == 422
    assert field_errors(answer.text) == {
        "window": "Hãy chọn một giờ hẹn còn nhận hoặc ghi giờ khác, không chọn cả hai."
    }
    assert '<details id="other-time" open>' in answer.text  # the typed time is shown
    assert "HL-HS-FULL" not in hotline.book(hotline.tomorrow)


def test_a_dispatcher_may_still_type_a_window(hotline: Hotline) -> None:
    """Under "Other time (dispatcher)" a window the list does not offer is booked as typed."""
    data = hotline.form(id="HL-HS-TYPED", action="book", window_from="9h", window_to="09:25")
    answer = hotline.post(data)
    assert answer.status_code == 303, answer.text
    assert hotline.book(hotline.tomorrow)["HL-HS-TYPED"]["window"] == ["09:00", "09:25"]


def test_an_address_is_placed_as_its_booking_places_it(hotline: Hotline) -> None:
    """A typed address is placed by the booking's own geocoder: the windows shown are those of
    the point the booked request then holds, and the page says how sure that point is."""
    form = hotline.form(id="HL-HS-ADDR", lat="", lon="", address="Phường 5, thành phố Cà Mau")
    checked = hotline.post(form)
    assert checked.status_code == 200, checked.text
    assert "Nơi đã tính" in checked.text and "Phường 5" in checked.text
    shown = offers(checked.text)
    free = [o["window"] for o in shown if o["free"]]
    assert free, shown
    booked = hotline.post({**form, "action": "book", "window": free[0]})
    assert booked.status_code == 303, booked.text
    stored = hotline.book(hotline.tomorrow)["HL-HS-ADDR"]
    assert stored["geocoded"]["precision"] in ("ward", "district")
    api = hotline.slots(hotline.tomorrow, lat=stored["lat"], lon=stored["lon"])
    assert [(o["window"], o["free"], o["reason"]) for o in shown] == _as_offers(api)
    assert stored["window"] == free[0].split("-")


def test_a_day_without_a_plan_is_answered_from_the_roster(hotline: Hotline) -> None:
    """The day after tomorrow has no plan: the form says so and shows the roster's answer,
    the same as ``GET /v1/slots``."""
    later = (date.fromisoformat(hotline.tomorrow) + timedelta(days=1)).isoformat()
    answer = hotline.post(hotline.form(date=_shown(later)))
    assert answer.status_code == 200, answer.text
    api = hotline.slots(later)
    assert api["basis"] == "roster"
    assert 'data-basis="roster"' in answer.text and 'id="slots-roster"' in answer.text
    shown = offers(answer.text)
    assert [(o["window"], o["free"], o["reason"]) for o in shown] == _as_offers(api)
    assert any(o["free"] for o in shown) and not all(o["free"] for o in shown)
    assert all(o["disabled"] != o["free"] for o in shown)


def test_with_no_roster_nor_plan_the_day_says_so(hotline: Hotline) -> None:
    """Before anything is stored, the check says beside the day that couriers are needed."""
    answer = hotline.no_roster
    assert answer.status_code == 422
    assert field_errors(answer.text) == {
        "date": "Ngày này chưa có kế hoạch và chưa lưu bưu tá nào: hãy nhập trước ở trang "
        "bưu tá, điểm phục vụ và chuyến xe."
    }
    assert "Chưa xem được giờ hẹn còn nhận" in answer.text and "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"lat": "", "lon": ""}, {"address": "Hãy ghi địa chỉ, hoặc một điểm (vĩ độ và kinh độ)."}),
        ({"lat": "", "lon": "", "address": "zzz qqq"},
         {"address": "Không có xã, phường hay huyện nào trong vùng phục vụ khớp với địa chỉ này."}),
        ({"handoff_site": "po-nowhere"},
         {"handoff_site": "Bưu cục này không có trong kế hoạch của ngày hay trong danh sách bưu "
                          "cục."}),
        ({"handoff_site": ""},
         {"handoff_site": "Nhận hồ sơ tại nhà cần có bưu cục bàn giao hồ sơ."}),
        ({"lat": "1", "lon": "1"},
         {"lat": "Điểm này nằm ngoài Việt Nam: hãy kiểm tra vĩ độ và kinh độ."}),
        ({"lat": "north"}, {"lat": "Phải là một số."}),
        ({"date": "31/02/2027"}, {"date": "Không phải ngày: hãy ghi theo dạng dd/mm/yyyy."}),
        ({"kind": "boat"}, {"kind": "Hãy chọn nhận hồ sơ hoặc trả kết quả."}),
    ],
)  # fmt: skip
def test_a_check_that_cannot_be_made_says_why_beside_the_field(
    hotline: Hotline, fields: dict[str, str], errors: dict[str, str]
) -> None:
    """No place yet, an address of nowhere, an unknown office, a point outside Vietnam, a day
    that is not one: 422, the reason beside its field in Vietnamese, the form kept."""
    answer = hotline.post({**hotline.form(), **fields})
    assert answer.status_code == 422, answer.text
    assert field_errors(answer.text) == errors
    assert offers(answer.text) == [] and "Traceback" not in answer.text
    assert 'value="Trần Thị Hoa"' in answer.text


def test_only_editors_check_windows(hotline: Hotline) -> None:
    """Staff read the book but use no form: a check is refused as a booking is."""
    assert hotline.post(hotline.form(), user="staff").status_code == 403


def test_a_return_is_checked_with_its_office_and_ready_time(hotline: Hotline) -> None:
    """A return whose result is ready at po-cm at 10h50 (typed as the hotline writes it): the
    route passes po-cm only at 07:00, so no window can collect it first; the form says so for
    each window, as ``GET /v1/slots`` does."""
    form = hotline.form(kind="return", handoff_site="", origin_site="po-cm", ready_at="10h50")
    answer = hotline.post(form)
    assert answer.status_code == 200, answer.text
    api = hotline.slots(
        hotline.tomorrow, kind="return", handoff_site=None, origin_site="po-cm", ready_at="10:50"
    )
    shown = offers(answer.text)
    assert [(o["window"], o["free"], o["reason"]) for o in shown] == _as_offers(api)
    assert [o["reason"] for o in shown] == ["no_collect"] * 3
    assert {o["words"] for o in shown} == {
        "hết chỗ: kết quả chưa được nhận tại bưu cục trước giờ hẹn này"
    }


def test_an_english_page_says_the_windows_in_english(hotline: Hotline) -> None:
    """With the English page chosen (cookie), free and full windows are said in English."""
    headers = {"Cookie": f"buuta_token={hotline.tokens['disp']}; buuta_lang=en"}
    answer = hotline.client.post(
        f"{hotline.url}/requests/new", data=hotline.form(), headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert [o["words"] for o in offers(answer.text)] == [
        "free to book",
        "full: the courier would be late for a citizen already booked",
        "full: the courier's shift would end first",
    ]


def test_booking_with_no_window_asks_to_check_them(hotline: Hotline) -> None:
    """Booked with neither a chosen nor a typed window: the list asks for a window to be
    chosen (and the typed times say they are missing); nothing is stored."""
    answer = hotline.post(hotline.form(id="HL-HS-NONE", action="book"))
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert errors["window"] == "Hãy xem giờ hẹn còn nhận rồi chọn một giờ."
    assert errors["window_from"] == errors["window_to"] == "Bắt buộc."
    assert "HL-HS-NONE" not in hotline.book(hotline.tomorrow)
