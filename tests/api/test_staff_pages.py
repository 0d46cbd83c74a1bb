"""Centre staff's pages on a real server, on SQLite and on PostgreSQL: the search box, the
journey in words (custody as people and places, a refused hand-over read as refused, failures
with their reasons) and the board of the day."""

from __future__ import annotations

from typing import Any

import pytest

from harness.api_day import ago, new_id
from tests.api.conftest import Day

P1 = "H12.22-261123-0001"
R1 = "H12.22-261101-0107"


def page(day: Day, user: str, path: str, **kwargs: Any) -> Any:
    """GET a page as ``user`` (token cookie, as the browser sends it), redirects not followed."""
    return day.client.get(
        f"{day.url}{path}",
        headers={"Cookie": f"buuta_token={day.tokens[user]}"},
        follow_redirects=False,
        **kwargs,
    )


def test_a_part_of_a_code_in_lower_case_lists_the_dossiers(day: Day) -> None:
    """'261123' finds the three pickups of the day; any case works."""
    answer = page(day, "staff1", "/dossiers", params={"q": "h12.22-261123"})
    assert answer.status_code == 200
    for code in (P1, "H12.22-261123-0002", "H12.22-261123-0003"):
        assert code in answer.text
    assert R1 not in answer.text


def test_a_whole_code_in_lower_case_opens_its_journey(day: Day) -> None:
    """A whole code typed in lower case goes straight to the journey page."""
    answer = page(day, "staff1", "/dossiers", params={"q": f" {P1.lower()} "})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/dossiers/{P1}"


def test_the_journey_map_answers_a_lower_case_code(day: Day) -> None:
    """/dossiers/{code}/map no longer answers 404 to a lower-case code."""
    answer = page(day, "staff1", f"/dossiers/{P1.lower()}/map")
    assert answer.status_code == 200
    assert 'action="/dossiers"' in answer.text  # the search box is on the map page too


@pytest.mark.parametrize("path", ["/dispatch", "/board", "/dossiers"])
def test_every_staff_page_has_the_search_box(day: Day, path: str) -> None:
    """The dispatch page, the board and the search page carry the search form."""
    answer = page(day, "disp1", path, params={"date": day.date} if path != "/dossiers" else {})
    assert answer.status_code == 200
    assert 'role="search"' in answer.text and 'name="q"' in answer.text


def test_staff_pages_need_a_staff_role(day: Day) -> None:
    """No token: to the log-in form; a courier: 403 in words."""
    anonymous = day.client.get(f"{day.url}/board", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    courier = page(day, "c1", "/dossiers", params={"q": "h12"})
    assert courier.status_code == 403


def _refuse_then_fail_r1(day: Day) -> None:
    """R1's result goes out, its hand-over is refused (wrong ID digits), then its delivery
    fails ("không có nhà"); done once per server, whichever test asks first."""
    now = day.client.get(f"{day.url}/v1/dossiers/{R1}", headers=day.as_user("staff1")).json()
    if now["status"] == "delivery_failed":
        return
    staff = day.scan("staff1", _event(R1, "result_ready", 50, site="po-cm"))
    courier = day.scan(
        "c1",
        _event(R1, "out_for_delivery", 40, site="po-cm"),
        _event(R1, "delivered", 30, proof={"id_last4": "0000"}),
        _event(R1, "delivery_failed", 20, reason="không có nhà"),
    )
    statuses = [r["status"] for r in staff.json()["results"] + courier.json()["results"]]
    assert statuses[:2] == ["stored", "stored"] and statuses[3] == "stored"


def test_journey_in_words_shows_refusal_failure_and_custody(day: Day) -> None:
    """After a refused hand-over and a failed delivery, the journey says so in words, with
    the courier as a person, places by their names and the due date."""
    _refuse_then_fail_r1(day)
    answer = page(day, "staff1", f"/dossiers/{R1.lower()}")
    assert answer.status_code == 303
    answer = page(day, "staff1", answer.headers["location"])
    text = answer.text
    assert answer.status_code == 200
    assert "Không trao kết quả: kiểm tra danh tính không đạt" in text  # refused, in words
    assert "Đã trả kết quả" not in text  # never "delivered"
    assert "Phát không thành công: không có nhà" in text
    assert "Bưu tá c1" in text and "courier:c1" not in text and "site:po-cm" not in text
    assert "Bưu điện Cà Mau" in text  # a place by its name
    assert "Hạn giải quyết theo quy định" in text


def _event(code: str, kind: str, minutes_ago: float, **extra: Any) -> dict[str, Any]:
    job = {P1: "P1", R1: "R1"}[code]
    return {"event_id": new_id(), "dossier": code, "type": kind, "at": ago(minutes_ago),
            "job": job, **extra}  # fmt: skip


def test_the_board_lists_stages_and_the_failed_delivery(day: Day) -> None:
    """After the failed attempt, the board lists R1 at risk with the courier's reason and
    what to do, and counts the day's four dossiers by stage."""
    _refuse_then_fail_r1(day)
    answer = page(day, "staff1", "/board", params={"date": day.date})
    assert answer.status_code == 200
    text = answer.text
    assert f'data-dossier="{R1}" data-reason="delivery_failed"' in text
    assert "không có nhà" in text and "Gọi người dân để hẹn lại giờ phát." in text
    assert "4 hồ sơ" in text


def _handoff_of(day: Day, job: str) -> dict[str, Any]:
    return next(
        s
        for r in day.plan["routes"]
        for s in r["stops"]
        if s["type"] == "handoff" and job in s.get("jobs", [])
    )


def test_a_manifest_checked_off_twice_records_each_scan_once(day: Day) -> None:
    """P1 is handed over at its office; the staff tick it on its run's manifest twice: one
    on_shuttle scan is stored, and the manifest shows it on board with no difference."""
    stop = _handoff_of(day, "P1")
    run, site = stop["shuttle"], stop["site"]
    answer = day.scan(
        "c1",
        _event(P1, "collected", 60, lat=9.1702, lon=105.1610),
        _event(P1, "at_hub", 45, site=site),
    )
    assert [r["status"] for r in answer.json()["results"]] == ["stored", "stored"]
    listing = page(day, "staff1", "/manifests", params={"date": day.date})
    assert listing.status_code == 200 and f'data-run="{run}"' in listing.text
    form = {"event": "on_shuttle", "dossier": P1}
    cookie = {"Cookie": f"buuta_token={day.tokens['staff1']}"}
    url = f"{day.url}/manifests/{run}?date={day.date}"
    first = day.client.post(url, data=form, headers=cookie, follow_redirects=False)
    again = day.client.post(url, data=form, headers=cookie, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert "recorded=1" in first.headers["location"]
    assert "recorded=0" in again.headers["location"] and "already=1" in again.headers["location"]
    history = day.client.get(f"{day.url}/v1/dossiers/{P1}", headers=day.as_user("staff1")).json()
    assert [e["type"] for e in history["history"]].count("on_shuttle") == 1
    sheet = page(day, "staff1", f"/manifests/{run}", params={"date": day.date})
    assert sheet.status_code == 200
    assert "Dự kiến đi chuyến này nhưng chưa quét lên xe" not in sheet.text
    assert "Bên nhận (ký, ghi rõ họ tên, giờ)" in sheet.text


def test_a_dispatcher_reads_a_manifest_but_does_not_tick_it(day: Day) -> None:
    """Dispatchers plan, they do not handle dossiers: no check-off form, and a post is 403."""
    run = _handoff_of(day, "P2")["shuttle"]
    sheet = page(day, "disp1", f"/manifests/{run}", params={"date": day.date})
    assert sheet.status_code == 200 and 'name="dossier"' not in sheet.text
    posted = day.client.post(
        f"{day.url}/manifests/{run}?date={day.date}",
        data={"event": "on_shuttle", "dossier": "H12.22-261123-0002"},
        headers={"Cookie": f"buuta_token={day.tokens['disp1']}"},
        follow_redirects=False,
    )
    assert posted.status_code == 403


def test_the_journey_page_says_when_the_dossier_reaches_its_destination(day: Day) -> None:
    """P1 is handed over at po-cm for run-1000 (10:00 → centre 10:20): the plan's journey of P1
    reaches the centre at 10:20, and the journey page says so in Vietnamese."""
    answer = page(day, "staff1", f"/dossiers/{P1}")
    assert answer.status_code == 200
    assert "run-1000" in answer.text
    assert "đến nơi nhận lúc 10:20" in answer.text
