"""The dispatcher's plan summary and the courier's stop rows, on the tiny hand-made day."""

from __future__ import annotations

from typing import Any

from api.courier_pages import failure_words, stop_rows
from api.i18n import use_locale
from api.pages import plan_summary


def test_summary_counts_served_unassigned_runs_and_km(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """3 of 4 jobs served (2 pickups, 1 return), J9 unassigned, 2 dossiers on run-1000."""
    s = plan_summary(plan_day, request_day)
    assert (s["jobs"], s["served"], s["pickups"], s["returns"]) == (4, 3, 2, 1)
    assert s["unassigned"] == 1
    assert s["reasons"] == [
        {
            "reason": "window_unreachable",
            "count": 1,
            "example": "J9: the window closes at 07:15, the earliest arrival is 07:52",
        }
    ]
    assert s["runs"] == [{"run": "run-1000", "site": "po-tvt", "departs": "10:00", "dossiers": 2}]
    assert (s["runs_caught"], s["dossiers_on_runs"]) == (1, 2)
    assert s["reaching_today"] == 2  # the plan's KPI: dossiers whose journey reaches today
    # 20.5 + 12.0 km over 3 dossiers = 10.83 km per dossier.
    assert s["distance_km"] == 32.5
    assert s["km_per_dossier"] == 10.83
    assert s["couriers_used"] == 2
    assert s["routes"][0] == {
        "courier": "c1",
        "stops": 4,
        "distance_km": 20.5,
        "hours": 7.0,
        "idle_min": None,  # a plan stored before idle time was reported
    }
    assert (s["idle_min"], s["idle_while_unserved"]) == (None, [])


def test_summary_prices_dossiers_at_the_published_tariffs(
    plan_day: dict[str, Any], request_day: dict[str, Any]
) -> None:
    """2 pickups × 13,000 + 1 rural return × 10,000 = 36,000 VND, 12,000 per dossier.

    J2's home (9.02, 105.01) lies in a rural commune (xã) of Cà Mau; moved into a ward of Cà Mau
    city (phường Tân Thành, 9.1769, 105.1524 is the centre's site) it is priced 8,000.
    """
    s = plan_summary(plan_day, request_day)
    assert s["returns_city"] == 0
    assert s["revenue_vnd"] == 2 * 13_000 + 10_000
    assert s["revenue_per_dossier_vnd"] == 12_000
    for stop in plan_day["routes"][0]["stops"]:
        if stop.get("job") == "J2":
            stop["lat"], stop["lon"] = 9.1769, 105.1524
    request_day["jobs"][1]["lat"], request_day["jobs"][1]["lon"] = 9.1769, 105.1524
    s = plan_summary(plan_day, request_day)
    assert s["returns_city"] == 1
    assert s["revenue_vnd"] == 2 * 13_000 + 8_000


def test_stop_rows_say_what_to_do_and_how_to_call_and_navigate() -> None:
    """Rows carry a task per stop kind, a clean tel: number, geo: link and done state."""
    with use_locale("en"):
        rows = _two_stops()
    assert rows[0]["status"] == "done"
    assert rows[0]["phone"] == "0912345678"
    assert rows[0]["geo"].startswith("geo:9.050000,104.980000?q=")
    assert rows[0]["window"] == "08:00–09:00"
    assert rows[0]["planned"] == "08:00"
    assert rows[1]["heading"] == "Hand over at Bưu điện Trần Văn Thời"
    assert rows[1]["task"] == "Hand over 2 dossiers. Run run-1000 departs 10:00."
    assert rows[1]["status"] == "pending"
    assert rows[1]["status_label"] == "To do · behind plan"
    assert rows[1]["expected"] == "08:40"
    assert rows[1]["dossiers"] == ["H1", "H3"]
    assert [d["job"] for d in rows[1]["dossier_rows"]] == ["J1", "J3"]
    assert rows[1]["geo"].startswith("geo:9.080600,104.974400?q=")
    assert rows[1]["phone"] == ""
    assert [r["number"] for r in rows] == [1, 2]
    vietnamese = _two_stops()  # outside a request: Vietnamese
    assert vietnamese[1]["heading"] == "Bàn giao tại Bưu điện Trần Văn Thời"
    assert vietnamese[1]["task"] == "Bàn giao 2 hồ sơ. Chuyến run-1000 khởi hành lúc 10:00."


def _two_stops() -> list[dict[str, Any]]:
    return stop_rows(
        [
            {"type": "pickup", "job": "J1", "dossier": "H1", "lat": 9.05, "lon": 104.98,
             "start": "2026-11-23T08:00:00+07:00", "window": ["08:00", "09:00"],
             "citizen": {"name": "Trần Thị B", "phone": "0912 345 678"},
             "address": "ấp 3, xã Khánh Bình", "state": "done", "status": "collected"},
            {"type": "handoff", "site": "po-tvt", "site_name": "Bưu điện Trần Văn Thời",
             "hand_over": [{"job": "J1", "dossier": "H1"}, {"job": "J3", "dossier": "H3"}],
             "shuttle": "run-1000", "arrive": "2026-11-23T08:25:00+07:00", "state": "behind",
             "expected_arrive": "2026-11-23T08:40:00+07:00"},
        ],
        sites={"po-tvt": {"id": "po-tvt", "lat": 9.0806, "lon": 104.9744}},
        shuttles={"run-1000": {"id": "run-1000", "departs": "10:00"}},
    )  # fmt: skip


def test_expected_time_on_a_later_day_says_so() -> None:
    """An expected time past midnight of the planned day carries (+1d), not a bare HH:MM."""
    rows = stop_rows(
        [
            {"type": "delivery", "job": "J2", "dossier": "H2", "lat": 9.02, "lon": 105.01,
             "start": "2026-11-23T16:30:00+07:00", "state": "behind",
             "expected_start": "2026-11-24T08:10:00+07:00"},
            {"type": "end", "site": "po-tvt", "arrive": "2026-11-23T17:00:00+07:00",
             "expected_arrive": "2026-11-23T17:20:00+07:00"},
        ]
    )  # fmt: skip
    assert rows[0]["expected"] == "08:10 (+1 ngày)"
    assert rows[1]["expected"] == "17:20"


def test_stop_numbers_are_the_plan_maps() -> None:
    """The start and end carry no number; a break with a place is numbered (as on the plan
    map), one without is left out; a re-planned start (a position, no site) names no place."""
    rows = stop_rows(
        [
            {"type": "start", "lat": 9.07, "lon": 104.98, "arrive": "2026-11-23T13:00:00+07:00"},
            {"type": "pickup", "job": "J1", "dossier": "H1", "lat": 9.05, "lon": 104.98},
            {"type": "break", "lat": 9.05, "lon": 104.98, "start": "2026-11-23T12:00:00+07:00"},
            {"type": "break", "start": "2026-11-23T12:00:00+07:00"},
            {"type": "handoff", "site": "po-tvt", "hand_over": [{"job": "J1", "dossier": "H1"}]},
            {"type": "end", "site": "po-tvt"},
        ],
        sites={"po-tvt": {"id": "po-tvt", "name": "Bưu điện TVT", "lat": 9.08, "lon": 104.97}},
    )  # fmt: skip
    assert [(r["type"], r["number"]) for r in rows] == [
        ("start", None), ("pickup", 1), ("break", 2), ("handoff", 3), ("end", None),
    ]  # fmt: skip
    assert rows[0]["heading"] == "Xuất phát từ vị trí hiện tại"
    assert rows[-1]["heading"] == "Kết thúc tại Bưu điện TVT"


def test_failure_reasons_read_as_words() -> None:
    """The phone's "<reason>; next=<step>" reads as the reason and the next step; free text
    typed at a counter is shown as it is."""
    with use_locale("en"):
        assert failure_words("refused; next=return_to_agency") == (
            "The citizen refused the result → Take it back to the agency"
        )
        assert failure_words("not_home") == "No one at home"
        assert failure_words("gate locked") == "gate locked"
    assert failure_words("not_home; next=retry_next_day") == (
        "Không có người ở nhà → Giao lại vào ngày làm việc sau"
    )


def _breaks_around_a_home() -> list[dict[str, Any]]:
    home = {"lat": 9.05, "lon": 104.98}
    return stop_rows(
        [
            {"type": "pickup", "job": "J1", "dossier": "H1", **home,
             "start": "2026-11-23T10:40:00+07:00", "state": "done"},
            {"type": "break", **home, "arrive": "2026-11-23T10:50:00+07:00",
             "start": "2026-11-23T11:00:00+07:00", "depart": "2026-11-23T12:00:00+07:00"},
            {"type": "handoff", "site": "po-tvt", "site_name": "Bưu điện Trần Văn Thời",
             "hand_over": [{"job": "J1", "dossier": "H1"}], "arrive": "2026-11-23T12:20:00+07:00"},
            {"type": "break", "site": "po-tvt", "arrive": "2026-11-23T12:22:00+07:00",
             "start": "2026-11-23T13:00:00+07:00", "depart": "2026-11-23T13:30:00+07:00"},
            {"type": "break", "start": "2026-11-23T14:00:00+07:00",
             "depart": "2026-11-23T14:15:00+07:00"},
        ],
        sites={"po-tvt": {"id": "po-tvt", "name": "Bưu điện Trần Văn Thời", "lat": 9.08,
                          "lon": 104.97}},
    )  # fmt: skip


def test_a_break_row_says_where_the_courier_rests_and_when() -> None:
    """A break at J1's home reads "at the place of stop 1", one at a site names the site, each
    with its hours; a break of an older plan (no place) is left out, as the map leaves it."""
    with use_locale("en"):
        rows = _breaks_around_a_home()
    assert [r["type"] for r in rows] == ["pickup", "break", "handoff", "break"]
    assert rows[1]["heading"] == "Break at the place of stop 1"
    assert rows[1]["task"] == "Rest 11:00–12:00."
    assert rows[3]["heading"] == "Break at Bưu điện Trần Văn Thời"
    vietnamese = _breaks_around_a_home()
    assert vietnamese[1]["heading"] == "Nghỉ tại điểm 1"
    assert vietnamese[1]["task"] == "Nghỉ từ 11:00 đến 12:00."
    assert vietnamese[3]["heading"] == "Nghỉ tại Bưu điện Trần Văn Thời"
