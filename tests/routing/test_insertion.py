"""The bookable-window check (:mod:`routing.insertion`) on a route worked out by hand.

The places lie on one parallel, and :class:`LineTravel` rides 0.01° of longitude in 10 minutes,
so every leg can be read off the map below (minutes):

    po (105.00) ──30── new home (105.03) ; J1 (105.02) ──10── new ──10── J2 (105.04)

Courier c1 works 08:00–12:00 from po with a bag of 3. Its route, as a plan states it:

    start po 07:58 → collect J2's result at po 07:58–08:00 (load 1)
    → pickup J1 arrive 08:20, wait, serve 08:30–08:40 (window 08:00–09:00; load 2)
    → delivery J2 09:00–09:10 (window 09:00–09:30; load 1)
    → hand-off J1 at po 09:50–09:52 for run-1000 (departs 10:10, cut-off 10:00; load 0)
    → end at po 09:52.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from geo.coords import LatLon
from geo.travel import TravelMatrix
from routing.insertion import (
    Candidate,
    SlotAnswer,
    check_windows,
    check_windows_roster,
    open_windows,
    parse_windows,
)
from routing.plan import Plan, plan_from_json
from routing.request import PlanRequest, parse_request

DAY = "2026-12-01"
LAT = 9.0
NEW_HOME = LatLon(LAT, 105.03)


class LineTravel:
    """Travel along the parallel: 10 minutes per 0.01° of longitude, 1 km per minute."""

    def matrix(self, points: Sequence[LatLon], mode: str) -> TravelMatrix:
        lon = np.array([p.lon for p in points])
        minutes = np.abs(lon[:, None] - lon[None, :]) * 1000.0
        return TravelMatrix(seconds=minutes * 60.0, metres=minutes * 1000.0)


def _request(capacity: int = 3) -> dict[str, Any]:
    return {
        "date": DAY,
        "sites": [{"id": "po", "kind": "post_office", "lat": LAT, "lon": 105.0}],
        "shuttles": [
            {"id": "run-1000", "from_site": "po", "to_site": "centre", "departs": "10:10",
             "arrives": "10:40", "handoff_min": 10},
            {"id": "run-1130", "from_site": "po", "to_site": "centre", "departs": "11:30",
             "arrives": "12:00", "handoff_min": 10},
        ],
        "couriers": [{"id": "c1", "start_site": "po", "end_site": "po", "capacity": capacity,
                      "shift": ["08:00", "12:00"]}],
        "jobs": [
            {"id": "J1", "kind": "pickup", "lat": LAT, "lon": 105.02, "window": ["08:00", "09:00"],
             "service_min": 10, "handoff_site": "po"},
            {"id": "J2", "kind": "return", "lat": LAT, "lon": 105.04, "window": ["09:00", "09:30"],
             "service_min": 10, "origin_site": "po"},
        ],
    }  # fmt: skip


def _t(hhmm: str) -> str:
    return f"{DAY}T{hhmm}:00+07:00"


def _plan() -> Plan:
    stops = [
        {"type": "start", "site": "po", "arrive": _t("07:58"), "depart": _t("07:58"), "load": 0},
        {"type": "collect", "site": "po", "jobs": ["J2"], "arrive": _t("07:58"),
         "start": _t("07:58"), "depart": _t("08:00"), "load": 1},
        {"type": "pickup", "job": "J1", "lat": LAT, "lon": 105.02, "arrive": _t("08:20"),
         "start": _t("08:30"), "depart": _t("08:40"), "load": 2},
        {"type": "delivery", "job": "J2", "lat": LAT, "lon": 105.04, "arrive": _t("09:00"),
         "start": _t("09:00"), "depart": _t("09:10"), "load": 1},
        {"type": "handoff", "site": "po", "jobs": ["J1"], "shuttle": "run-1000",
         "arrive": _t("09:50"), "start": _t("09:50"), "depart": _t("09:52"), "load": 0},
        {"type": "end", "site": "po", "arrive": _t("09:52")},
    ]  # fmt: skip
    route = {"courier": "c1", "distance_km": 80, "stops": stops}
    return plan_from_json(
        {"plan_id": "p1", "date": DAY, "status": "complete", "unassigned": [], "routes": [route]}
    )


def _s(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _check(
    visit: Candidate, *windows: str, request: PlanRequest | None = None, now: str | None = None
) -> list[SlotAnswer]:
    req = request or parse_request(_request())
    spans = [(_s(w.split("-")[0]), _s(w.split("-")[1])) for w in windows]
    now_s = None if now is None else _s(now)
    return check_windows(_plan(), req, visit, spans, now_s=now_s, travel=LineTravel())


PICKUP = Candidate("pickup", NEW_HOME, 600, handoff_site="po")


def test_a_window_that_fits_names_the_cheapest_insertion() -> None:
    """08:00–09:00 fits between J1 and J2 for 10 extra minutes.

    Worked out: leave J1 08:40, 10 min to the home → 08:50, serve → 09:00, 10 min to J2 → 09:10
    (window to 09:30), 10 minutes late onwards: hand-off 10:00 (cut-off 10:00), end 10:02.
    Detour 10 + 10 − 20 = 0 minutes, plus 10 of service. The dossier joins J1's hand-off and so
    catches run-1000. (From the start, the same window costs 30 + 10 − 20 + 10 = 30 minutes.)
    """
    [answer] = _check(PICKUP, "08:00-09:00")
    assert answer.available
    assert (answer.courier, answer.extra_s, answer.arrive_s) == ("c1", 600, _s("08:50"))
    assert answer.run == "run-1000"


def test_a_window_that_would_break_a_later_stop_is_refused() -> None:
    """09:25–10:00 fits nowhere: every gap makes a later stop late.

    After J2: arrive 09:20, wait, serve 09:25–09:35, back at po 10:05 past run-1000's cut-off
    10:00. After J1: J2 would begin 09:45, after its window closes at 09:30. After the hand-off
    (09:52): arrive 10:22, past the window. The latest try that reaches the home in the window
    (after J2) explains why.
    """
    [answer] = _check(PICKUP, "09:25-10:00")
    assert not answer.available
    assert answer.reason == "later_stop_late"
    assert answer.detail == "the hand-off for run run-1000 would begin after 10:00"


def test_a_window_past_the_shift_end_is_refused() -> None:
    """11:30–12:00 would bring c1 back after its shift ends at 12:00.

    After the hand-off: leave po 09:52, arrive 10:22, wait, serve 11:30–11:40, then a new
    hand-off at po 12:10 and the end 12:12 > 12:00.
    """
    [answer] = _check(PICKUP, "11:30-12:00")
    assert (answer.available, answer.reason) == (False, "shift_end")
    assert "12:00" in str(answer.detail)


def test_a_pickup_after_the_last_hand_off_gets_its_own_and_the_run_it_catches() -> None:
    """10:00–11:00 fits only after the hand-off: a hand-off of its own, run-1130.

    Leave po 09:52, arrive 10:22, serve → 10:32, back at po 11:02 (cut-off of run-1130 11:20),
    hand over 2 min, end 11:04. Extra: 30 + 10 (service) + 30 + 2 (hand-off) = 72 minutes.
    """
    [answer] = _check(PICKUP, "10:00-11:00")
    assert (answer.available, answer.courier, answer.run) == (True, "c1", "run-1130")
    assert (answer.arrive_s, answer.extra_s) == (_s("10:22"), 72 * 60)


def test_a_full_bag_refuses_the_pickup() -> None:
    """With a bag of 2, J1 and J2's result fill it between 08:40 and 09:00: no room after J1."""
    request = parse_request(_request(capacity=2))
    [answer] = _check(PICKUP, "08:45-09:00", request=request)
    assert (answer.available, answer.reason) == (False, "capacity")


def test_a_return_is_collected_at_its_origin_before_the_window() -> None:
    """A return from po is collected at the collect stop (08:00): 08:00–09:00 fits after J1.

    A result ready only at 10:30 is never at po while c1 passes there before the window.
    """
    visit = Candidate("return", NEW_HOME, 600, origin_site="po")
    [answer] = _check(visit, "08:00-09:00")
    assert (answer.available, answer.extra_s, answer.arrive_s) == (True, 600, _s("08:50"))
    late = Candidate("return", NEW_HOME, 600, origin_site="po", ready_s=_s("10:30"))
    [answer] = _check(late, "08:00-09:00")
    assert (answer.available, answer.reason) == (False, "no_collect")


def test_the_clock_leaves_out_begun_windows_and_stops_already_left() -> None:
    """At 08:45 the 08:00–09:00 window has begun, and c1 has left J1: only later gaps remain."""
    windows = parse_windows("08:00-09:00, 09:25-10:00,10:00-11:00")
    assert open_windows(windows, _s("08:45")) == [windows[1], windows[2]]
    assert open_windows(windows, None) == list(windows)
    # Between J1 and J2 would fit 08:45–09:00, but c1 left J1 at 08:40.
    [answer] = _check(PICKUP, "08:45-09:00", now="08:45")
    assert (answer.available, answer.reason) == (False, "window_unreachable")


def test_without_a_plan_the_roster_answers() -> None:
    """From the roster alone: po → home 30 min, serve 10, back to po 30, hand over 2.

    08:00–09:00: leave 08:00, arrive 08:30, hand over at po 09:10 (run-1000's cut-off is
    10:00), done 09:12: fits, 30 + 10 + 30 + 2 = 72 minutes.
    11:30–12:00: serve 11:30–11:40, back 12:10 after the shift's end 12:00.
    """
    req = parse_request(_request())
    early, late = check_windows_roster(
        req, PICKUP, [(_s("08:00"), _s("09:00")), (_s("11:30"), _s("12:00"))], travel=LineTravel()
    )
    assert (early.available, early.courier, early.extra_s, early.arrive_s) == (
        True,
        "c1",
        72 * 60,
        _s("08:30"),
    )
    assert early.run == "run-1000"
    assert (late.available, late.reason) == (False, "shift_end")


@pytest.mark.parametrize(
    ("text", "message"),
    [("8-10", "HH:MM-HH:MM"), ("10:00-09:00", "close after"), ("", "no slot window")],
)
def test_bad_window_settings_say_what_is_wrong(text: str, message: str) -> None:
    """Windows are HH:MM-HH:MM, each closing after it opens."""
    with pytest.raises(ValueError, match=message):
        parse_windows(text)


def test_a_visit_names_its_site() -> None:
    """A pickup without a hand-off site, or a site the day does not know, is refused."""
    with pytest.raises(ValueError, match="handoff_site"):
        Candidate("pickup", NEW_HOME, 600)
    with pytest.raises(ValueError, match="unknown site"):
        _check(Candidate("pickup", NEW_HOME, 600, handoff_site="po-x"), "08:00-09:00")


def test_a_courier_back_at_its_office_takes_a_later_window() -> None:
    """At 10:30 c1's route is done (back at po at 09:52): 11:00–11:30 fits from po.

    Leave po 10:30, arrive 11:00, serve → 11:10, back at po 11:40 (past run-1130's cut-off
    11:20: no run today), hand over → 11:42, within the shift. Extra: 30 + 10 + 30 + 2 = 72.
    """
    [answer] = _check(PICKUP, "11:00-11:30", now="10:30")
    assert (answer.available, answer.courier, answer.arrive_s) == (True, "c1", _s("11:00"))
    assert (answer.extra_s, answer.run) == (72 * 60, None)


def test_a_courier_on_no_route_is_asked_as_the_roster_would_be() -> None:
    """c2 is on the roster but on no route of the plan: 09:25–10:00, refused for c1's route,
    fits c2: leave po 08:00, wait, serve 09:25–09:35, hand over at po 10:05 for run-1130."""
    data = _request()
    data["couriers"].append({**data["couriers"][0], "id": "c2"})
    [answer] = _check(PICKUP, "09:25-10:00", request=parse_request(data))
    assert (answer.available, answer.courier, answer.arrive_s) == (True, "c2", _s("09:25"))
    assert (answer.extra_s, answer.run) == (72 * 60, "run-1130")
