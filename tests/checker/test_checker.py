"""The plan checker on a tiny hand-checked day: the valid plan passes, each broken copy fails.

The day is described, with every time and distance worked out, in ``tests/checker/tiny.py``.
Each broken copy below changes one promise and says in a comment why exactly one code follows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from routing.checker import CODES, Violation, check_plan
from tests.checker.tiny import at, plan, request, stop

Doc = dict[str, Any]


def codes(violations: list[Violation]) -> set[str]:
    """Return the set of violation codes."""
    return {v.code for v in violations}


def test_valid_plan_has_no_violations() -> None:
    """The hand-made plan keeps every promise of its request: zero violations."""
    assert check_plan(request(), plan()) == []


def _window(req: Doc, pl: Doc) -> None:
    # P1's pickup starts 08:00; a window opening 08:30 makes that too early.
    req["jobs"][0]["window"] = ["08:30", "09:00"]


def _late_declared(req: Doc, pl: Doc) -> None:
    # R1's window closes 12:30, before its 13:00 delivery; the plan marks the stop late (a
    # result in hand whose window was lost before a re-plan): reported, under its own code.
    req["jobs"][1]["window"] = ["12:00", "12:30"]
    pl["routes"][0]["stops"][5]["late"] = True


def _shift_open(req: Doc, pl: Doc) -> None:
    # The route leaves po at 07:40, before a shift opening at 07:45.
    req["couriers"][0]["shift"] = ["07:45", "17:00"]


def _shift_close(req: Doc, pl: Doc) -> None:
    # The route is back at po at 13:20, after a shift closing at 13:00 (lunch still fits).
    req["couriers"][0]["shift"] = ["07:00", "13:00"]


def _break_outside(req: Doc, pl: Doc) -> None:
    # A lunch taken 10:00–11:00 lies outside 11:00–13:30 (the leg still has 208 ≥ 75 min).
    stop(pl, 4).update(start=at("10:00:00"), depart=at("11:00:00"))


def _break_short(req: Doc, pl: Doc) -> None:
    # A 30-minute lunch is shorter than the 60 minutes owed.
    stop(pl, 4).update(start=at("11:00:00"), depart=at("11:30:00"))


def _break_missing(req: Doc, pl: Doc) -> None:
    # The route spans 07:40–13:20: 60 min cannot fit in 11:00–13:30 before 07:40 or after
    # 13:20 (13:20 + 60 min = 14:20 > 13:30), so the lunch must be in the route.
    del pl["routes"][0]["stops"][4]


def _capacity(req: Doc, pl: Doc) -> None:
    # A courier with no room: after the pickup (stop 1) and the collect (stop 3) it carries
    # 1 > 0.
    req["couriers"][0]["capacity"] = 0


def _load(req: Doc, pl: Doc) -> None:
    # After handing P1 over the courier carries nothing, not 1.
    stop(pl, 2)["load"] = 1


def _precedence(req: Doc, pl: Doc) -> None:
    # P1 is picked up but never handed over: drop the hand-off stop (the leg P1 → po takes
    # 20 min and now runs 08:10 → 08:32; the loads carry P1 to the end).
    del pl["routes"][0]["stops"][2]
    stop(pl, 2)["load"] = 2  # collect: P1 + R1
    stop(pl, 4)["load"] = 1  # delivery of R1: P1 still aboard


def _cutoff(req: Doc, pl: Doc) -> None:
    # Run-1000 leaving 08:35 with a 10-min margin cuts off at 08:25 < the hand-off at 08:30.
    req["shuttles"][0]["departs"] = "08:35"


def _wrong_run_destination(req: Doc, pl: Doc) -> None:
    # P1 goes to the centre; a run-1000 to another department cannot carry it.
    req["shuttles"][0]["to_site"] = "dept-justice"


def _journey_reaches(req: Doc, pl: Doc) -> None:
    # The journey of P1 is run-1000 alone, which arrives at the centre at 10:40, not 11:00.
    stop(pl, 2)["journeys"] = {"P1": {"runs": ["run-1000"], "reaches": at("11:00:00")}}


def _wrong_run_unknown(req: Doc, pl: Doc) -> None:
    # The hand-off names a run the request does not have.
    stop(pl, 2)["shuttle"] = "run-0930"


def _ready(req: Doc, pl: Doc) -> None:
    # R1 ready only at 09:45 but collected at 09:30.
    req["jobs"][1]["ready_at"] = "09:45"


def _opening(req: Doc, pl: Doc) -> None:
    # po opens at 09:00, but the hand-off starts at 08:30 (the collect at 09:30 is fine).
    req["sites"][0]["opening"] = ["09:00", "17:00"]


def _skill(req: Doc, pl: Doc) -> None:
    # P1 needs a boat; a courier without that skill may not serve it.
    req["couriers"][0]["skills"] = []


def _job_missing(req: Doc, pl: Doc) -> None:
    # U1 vanishes from the plan (status fixed to match an empty unassigned list).
    pl["unassigned"] = []
    pl["status"] = "complete"


def _job_duplicated(req: Doc, pl: Doc) -> None:
    # P1 is routed and also reported unassigned (status stays partial).
    pl["unassigned"].append({"job": "P1", "reason": "no_time", "detail": "No time left."})


def _unknown_job(req: Doc, pl: Doc) -> None:
    # The plan reports a job the request never had.
    pl["unassigned"].append({"job": "Z9", "reason": "no_time", "detail": "No time left."})


def _wrong_site(req: Doc, pl: Doc) -> None:
    # R1's result waits at the centre, but the plan collects it at po.
    req["jobs"][1]["origin_site"] = "centre"


def _location(req: Doc, pl: Doc) -> None:
    # The pickup stop sits 0.04° away from P1's home (legs come from the matrix by id).
    stop(pl, 1)["lat"] = 9.05


def _travel(req: Doc, pl: Doc) -> None:
    # po → P1 now takes 25 min, but the plan leaves 07:40 and arrives 08:00: 20 min.
    req["travel"]["minutes"][0][2] = 25.0


def _travel_break(req: Doc, pl: Doc) -> None:
    # po → R1 now takes 150 min: 09:32 → 13:00 is 208 min < 150 + 60 min of lunch.
    req["travel"]["minutes"][0][3] = 150.0


def _distance(req: Doc, pl: Doc) -> None:
    # The route claims 30 km but its legs add to 28 km (kpis follow the claim).
    pl["routes"][0]["distance_km"] = 30.0
    pl["kpis"]["distance_km"] = 30.0


def _time_order(req: Doc, pl: Doc) -> None:
    # The collect's arrive (09:31) comes after its start (09:30).
    stop(pl, 3)["arrive"] = at("09:31:00")


def _time_order_between(req: Doc, pl: Doc) -> None:
    # With lunch allowed from 09:00, a lunch 09:31–10:31 starts before the collect departs
    # at 09:32 (the leg still holds 208 ≥ 15 + 60 min).
    req["couriers"][0]["breaks"][0]["earliest"] = "09:00"
    stop(pl, 4).update(start=at("09:31:00"), depart=at("10:31:00"))


def _service(req: Doc, pl: Doc) -> None:
    # P1's service is 12 min, but the stop runs 08:00 → 08:10: 10 min.
    req["jobs"][0]["service_min"] = 12


def _malformed_time(req: Doc, pl: Doc) -> None:
    # A time without its +07:00 offset.
    stop(pl, 1)["arrive"] = "2026-11-23T08:00:00"


def _malformed_type(req: Doc, pl: Doc) -> None:
    # An end stop before the last one breaks the shape of the route.
    pl["routes"][0]["stops"].insert(3, {"type": "end", "site": "po", "arrive": at("08:32:00")})


def _unassigned_reason(req: Doc, pl: Doc) -> None:
    # "late" is no reason code a dispatcher's screen knows.
    pl["unassigned"][0]["reason"] = "late"


def _unassigned_detail(req: Doc, pl: Doc) -> None:
    # A reason without the sentence that explains it.
    pl["unassigned"][0]["detail"] = "  "


def _kpi_served(req: Doc, pl: Doc) -> None:
    # Two jobs are routed, not three.
    pl["kpis"]["served"] = 3


def _kpi_runs_missed(req: Doc, pl: Doc) -> None:
    # P1 catches run-1000, so no run is missed.
    pl["kpis"]["runs_missed"] = 1


def _kpi_duration(req: Doc, pl: Doc) -> None:
    # The route runs 07:40 → 13:20, 340 min, not 400 (kpis follow the claim).
    pl["routes"][0]["duration_min"] = 400
    pl["kpis"]["duration_min"] = 400


def _kpi_unassigned_by_reason(req: Doc, pl: Doc) -> None:
    # U1 is unassigned for its window, not for capacity.
    pl["kpis"]["unassigned_by_reason"] = {"over_capacity": 1}


def _status(req: Doc, pl: Doc) -> None:
    # One job is unassigned, so the plan is partial, not complete.
    pl["status"] = "complete"


def _personal_data(req: Doc, pl: Doc) -> None:
    # U1's citizen is in the request (for tracking); the plan's detail must not quote the phone.
    req["jobs"][2]["citizen"] = {
        "name": "Nguyễn Thị Hoa",
        "phone": "0912345678",
        "id_number": "096187000123",
    }
    pl["unassigned"][0]["detail"] += " Call 0912345678 to rebook."


def _lock(req: Doc, pl: Doc) -> None:
    # The dispatcher locked P1 to courier c2, but c1's route (the only one) serves it.
    req["jobs"][0]["courier"] = "c2"


def _break_place_unknown(req: Doc, pl: Doc) -> None:
    # The lunch says it is taken at a site the request does not have.
    stop(pl, 4).update(site="po-nowhere", arrive=at("09:32:00"))


def _break_place_too_soon(req: Doc, pl: Doc) -> None:
    # The lunch is taken at R1's home, reached 09:40, but po → R1 takes 15 min from 09:32
    # (09:47): the ride before the break is too short by 7 min.
    stop(pl, 4).update(lat=9.02, lon=105.02, arrive=at("09:40:00"))


BROKEN: list[tuple[str, Callable[[Doc, Doc], None]]] = [
    ("break_place", _break_place_unknown),
    ("travel", _break_place_too_soon),
    ("window", _window),
    ("late_declared", _late_declared),
    ("shift", _shift_open),
    ("shift", _shift_close),
    ("break", _break_outside),
    ("break", _break_short),
    ("break", _break_missing),
    ("capacity", _capacity),
    ("load", _load),
    ("precedence", _precedence),
    ("cutoff", _cutoff),
    ("wrong_run", _wrong_run_destination),
    ("wrong_run", _wrong_run_unknown),
    ("journey", _journey_reaches),
    ("ready", _ready),
    ("opening", _opening),
    ("skill", _skill),
    ("job_missing", _job_missing),
    ("job_duplicated", _job_duplicated),
    ("unknown_job", _unknown_job),
    ("wrong_site", _wrong_site),
    ("location", _location),
    ("travel", _travel),
    ("travel", _travel_break),
    ("distance", _distance),
    ("time_order", _time_order),
    ("time_order", _time_order_between),
    ("service", _service),
    ("malformed", _malformed_time),
    ("malformed", _malformed_type),
    ("unassigned_reason", _unassigned_reason),
    ("unassigned_reason", _unassigned_detail),
    ("kpi", _kpi_served),
    ("kpi", _kpi_runs_missed),
    ("kpi", _kpi_duration),
    ("kpi", _kpi_unassigned_by_reason),
    ("status", _status),
    ("personal_data", _personal_data),
    ("lock", _lock),
]


@pytest.mark.parametrize(("code", "breaker"), BROKEN, ids=[f.__name__[1:] for _, f in BROKEN])
def test_each_broken_promise_yields_exactly_its_code(
    code: str, breaker: Callable[[Doc, Doc], None]
) -> None:
    """Breaking one promise of the tiny plan yields violations of exactly that one code."""
    req, pl = request(), plan()
    breaker(req, pl)
    found = check_plan(req, pl)
    assert codes(found) == {code}, [str(v) for v in found]
    assert all(v.detail for v in found)
    assert len(found) <= 2, [str(v) for v in found]  # one broken promise, not a cascade


def test_every_code_is_documented_and_exercised() -> None:
    """Each code the broken copies produce is in CODES, and most CODES have a broken copy."""
    exercised = {code for code, _ in BROKEN}
    assert exercised <= set(CODES)
    # Every code is reached by a broken copy of the tiny plan.
    assert set(CODES) == exercised


def test_citizen_data_in_the_request_alone_is_fine() -> None:
    """Personal data in the request (where tracking needs it) is no violation of the plan."""
    req, pl = request(), plan()
    _personal_data(req, plan())
    assert check_plan(req, pl) == []


def test_details_name_courier_stop_and_times() -> None:
    """A window violation names the courier, the stop index, the start and the window."""
    req, pl = request(), plan()
    _window(req, pl)
    (violation,) = check_plan(req, pl)
    assert violation.courier == "c1"
    assert violation.job == "P1"
    assert "stop 1" in violation.detail
    assert "08:00:00" in violation.detail
    assert "08:30:00" in violation.detail
    assert "09:00:00" in violation.detail


def test_missed_run_is_counted_not_a_violation() -> None:
    """A hand-off with ``shuttle: null`` is a missed run: fine if kpis.runs_missed says 1."""
    req, pl = request(), plan()
    stop(pl, 2)["shuttle"] = None
    assert codes(check_plan(req, pl)) == {"kpi"}  # kpis still claim 0 runs missed
    pl["kpis"]["runs_missed"] = 1
    assert check_plan(req, pl) == []


def test_run_named_for_a_dossier_without_destination_is_wrong() -> None:
    """A dossier staying at its hand-off site catches no run: naming one is ``wrong_run``."""
    req, pl = request(), plan()
    del req["jobs"][0]["destination_site"]
    found = check_plan(req, pl)
    assert codes(found) == {"wrong_run"}
    stop(pl, 2)["shuttle"] = None
    assert check_plan(req, pl) == []  # and with no run named it is not a missed run either


def test_break_may_be_left_out_when_the_route_ends_before_it() -> None:
    """A route back at 10:00 leaves room for lunch after it: no break stop is needed."""
    req, pl = request(), plan()
    # Serve only P1: start 07:40, pickup 08:00–08:10, hand-off 08:30–08:32, end 08:32.
    stops = pl["routes"][0]["stops"]
    del stops[3:6]
    stops[-1]["arrive"] = at("08:32:00")
    pl["routes"][0]["distance_km"] = 16.0
    pl["routes"][0]["duration_min"] = 52  # 07:40 → 08:32
    pl["unassigned"].append({"job": "R1", "reason": "no_time", "detail": "Left for tomorrow."})
    pl["kpis"].update(served=1, distance_km=16.0)
    assert check_plan(req, pl) == []


def test_travel_matrix_gap_is_reported() -> None:
    """A leg between ids the request's matrix lacks is a ``travel`` violation naming them."""
    req, pl = request(), plan()
    travel = req["travel"]
    keep = [0, 1, 2, 4]  # drop R1 from the matrix
    travel["ids"] = [travel["ids"][i] for i in keep]
    for key in ("minutes", "km"):
        travel[key] = [[travel[key][i][j] for j in keep] for i in keep]
    found = check_plan(req, pl)
    assert codes(found) == {"travel"}
    assert any("R1" in v.detail for v in found)


def test_two_routes_for_one_job_is_precedence() -> None:
    """A pickup on one courier's route and its hand-off on another's breaks precedence."""
    req, pl = request(), plan()
    req["couriers"].append({**req["couriers"][0], "id": "c2"})
    # c2 goes po → P1 → po and back, picking up P1; c1 only hands it over.
    route2 = {
        "courier": "c2",
        "distance_km": 16.0,
        "duration_min": 50,  # 07:40 → 08:30
        "stops": [
            {"type": "start", "site": "po", "arrive": at("07:40:00"), "depart": at("07:40:00"),
             "load": 0},
            {"type": "pickup", "job": "P1", "lat": 9.01, "lon": 105.01, "arrive": at("08:00:00"),
             "start": at("08:00:00"), "depart": at("08:10:00"), "load": 1},
            {"type": "end", "site": "po", "arrive": at("08:30:00"), "load": 1},
        ],
    }  # fmt: skip
    pl["routes"].append(route2)
    # c1 keeps its hand-off of P1 without the pickup: 07:40 → po is 0 min, fine.
    stops = pl["routes"][0]["stops"]
    del stops[1]
    stops[1]["load"] = -1  # c1 hands over what it never took: its bookkeeping goes below 0
    pl["kpis"]["distance_km"] = 12.0 + 16.0
    c1 = pl["routes"][0]
    c1["distance_km"] = 12.0  # po → po (0) → po (0) → R1 (6) → po (6)
    found = check_plan(req, pl)
    assert "precedence" in codes(found)
    assert codes(found) <= {"precedence", "load"}


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("date", "23/11/2026", "request.date"),
        ("jobs.0.window", ["09:00", "08:00"], "request.jobs[0].window"),
        ("jobs.0.window", ["8h", "09:00"], "request.jobs[0].window[0]"),
        ("jobs.1.lat", "north", "request.jobs[1]"),
        ("couriers.0.capacity", -1, "request.couriers[0].capacity"),
        ("jobs.2.id", "P1", "request.jobs[2].id"),
        ("travel.minutes", [[0.0]], "request.travel.minutes"),
    ],
)
def test_unreadable_request_raises_value_error_naming_the_field(
    field: str, value: Any, named: str
) -> None:
    """A request the checker cannot read raises ValueError naming the field, not a traceback."""
    req = request()
    target: Any = req
    *path, last = field.split(".")
    for part in path:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace(".", r"\.")):
        check_plan(req, plan())


def test_garbage_plan_is_malformed_not_a_crash() -> None:
    """Plans of the wrong shape give ``malformed`` violations, never an exception."""
    for garbage in ([], {"routes": "x"}, {"routes": [None], "unassigned": [3]}):
        found = check_plan(request(), garbage)  # type: ignore[arg-type]
        assert "malformed" in codes(found)


def _replanned_at_0815() -> Doc:
    """The tiny plan re-planned at 08:15 with P1 picked up: the route resumes from P1's home.

    ``done`` keeps the start and the pickup as they were; the new route starts at P1's home
    (a position, not a site) at 08:15 with P1 aboard (load 1). The leg from a position is not
    in the request's matrix (sites and jobs only), so it is not judged; the rest is as before.
    """
    pl = plan()
    route = pl["routes"][0]
    stops = route["stops"]
    route["done"] = stops[:2]
    route["stops"] = [
        {"type": "start", "lat": 9.01, "lon": 105.01, "arrive": at("08:15:00"),
         "depart": at("08:15:00"), "load": 1},
        *stops[2:],
    ]  # fmt: skip
    route["distance_km"] = 20.0  # the (unjudged) first leg + 0 + 6 + 6 km
    route["duration_min"] = 305  # 08:15 → 13:20
    pl["kpis"]["distance_km"] = 20.0
    return pl


def test_replanned_route_with_done_stops_passes() -> None:
    """Done stops count as served (P1's pickup), and the new start carries P1: no violations."""
    assert check_plan(request(), _replanned_at_0815()) == []


def test_replanned_route_must_start_with_what_is_in_hand() -> None:
    """A re-planned start claiming an empty bag, with P1 picked up before, breaks the load."""
    pl = _replanned_at_0815()
    pl["routes"][0]["stops"][0]["load"] = 0
    assert codes(check_plan(request(), pl)) == {"load"}


def test_replanned_route_cannot_pick_up_again_what_is_done() -> None:
    """A job picked up in the done part and again in the new route is duplicated."""
    pl = _replanned_at_0815()
    pl["routes"][0]["stops"][0]["load"] = 0
    pl["routes"][0]["done"][1]["job"] = "P1"
    again = dict(plan()["routes"][0]["stops"][1])
    again.update(arrive=at("08:15:00"), start=at("08:15:00"), depart=at("08:25:00"))
    pl["routes"][0]["stops"].insert(1, again)  # P1's pickup, 0 min from its own home
    pl["routes"][0]["stops"][2]["arrive"] = at("08:45:00")  # P1 → po: 20 min
    found = check_plan(request(), pl)
    assert "job_duplicated" in codes(found)


def test_replanned_route_cannot_leave_before_its_last_done_stop() -> None:
    """Resuming at 08:05, before the done pickup departed (08:10), is ``time_order``."""
    pl = _replanned_at_0815()
    pl["routes"][0]["stops"][0].update(arrive=at("08:05:00"), depart=at("08:05:00"))
    pl["routes"][0]["duration_min"] = 315  # 08:05 → 13:20
    assert codes(check_plan(request(), pl)) == {"time_order"}


def test_lunch_taken_before_the_replan_is_not_owed_again() -> None:
    """A break among the done stops counts: the re-planned route needs no second lunch."""
    req, pl = request(), plan()
    route = pl["routes"][0]
    stops = route["stops"]
    # Re-plan at 12:10, after lunch (stop 4): done = stops 0–4, resume from po.
    route["done"] = stops[:5]
    route["stops"] = [
        {"type": "start", "site": "po", "arrive": at("12:10:00"), "depart": at("12:10:00"),
         "load": 1},
        {**stops[5], "arrive": at("13:00:00")},
        stops[6],
    ]  # fmt: skip
    route["distance_km"] = 12.0  # po → R1 → po
    route["duration_min"] = 70  # 12:10 → 13:20
    pl["kpis"].update(distance_km=12.0, jobs=2)  # P1 is finished before the re-plan
    pl["kpis"]["served"] = 1
    assert check_plan(req, pl) == []


def test_replanned_courier_with_all_stops_done_is_fine() -> None:
    """A courier whose whole day is done keeps a route with done stops only and no stops."""
    pl = plan()
    route = pl["routes"][0]
    route["done"], route["stops"] = route["stops"][:-1], []
    route["distance_km"], route["duration_min"] = 0.0, 0
    pl["kpis"].update(jobs=1, served=0, distance_km=0.0, couriers_used=0)  # only U1 is left
    assert check_plan(request(), pl) == []
    pl["kpis"]["couriers_used"] = 1  # no courier still has stops to ride
    assert codes(check_plan(request(), pl)) == {"kpi"}


def test_replanned_route_may_resume_at_another_site() -> None:
    """After a re-plan the start is where the courier is: a site other than its start site."""
    req, pl = request(), _replanned_at_0815()
    start = pl["routes"][0]["stops"][0]
    del start["lat"], start["lon"]
    start["site"] = "centre"
    # centre → po takes 30 min: leave 08:00 to hand over at 08:30 (a leg judged by the matrix).
    start.update(arrive=at("08:00:00"), depart=at("08:00:00"))
    # Done: the pickup at 08:00–08:10 would overlap; move the done part earlier (as it was).
    done = pl["routes"][0]["done"]
    done[0].update(arrive=at("07:20:00"), depart=at("07:20:00"))
    done[1].update(arrive=at("07:40:00"), start=at("07:40:00"), depart=at("07:50:00"))
    req["jobs"][0]["window"] = ["07:30", "09:00"]
    pl["routes"][0]["distance_km"] = 12.0 + 0 + 6 + 6
    pl["routes"][0]["duration_min"] = 320  # 08:00 → 13:20
    pl["kpis"]["distance_km"] = 24.0
    assert check_plan(req, pl) == []


def test_a_break_taken_at_the_stop_before_it_keeps_every_promise() -> None:
    """Lunch at po, where the courier collected R1 (left 09:32): it rests there 11:00–12:00,
    then rides 15 min to R1 (12:15 ≤ 13:00): every leg runs from one place to the next."""
    pl = plan()
    stop(pl, 4).update(site="po", arrive=at("09:32:00"))
    assert check_plan(request(), pl) == []


def test_a_break_taken_after_riding_on_keeps_every_promise() -> None:
    """The courier rides on from po (09:32) to R1's home (09:47, 15 min), rests there
    11:00–12:00 and waits for the window opening 13:00: the break is at R1's point."""
    pl = plan()
    stop(pl, 4).update(lat=9.02, lon=105.02, arrive=at("09:47:00"))
    assert check_plan(request(), pl) == []


def test_a_placed_break_reached_after_it_begins_is_out_of_order() -> None:
    """A break at po that says it is reached at 11:30 but begins at 11:00 runs backwards."""
    pl = plan()
    stop(pl, 4).update(site="po", arrive=at("11:30:00"))
    assert codes(check_plan(request(), pl)) == {"time_order"}


def test_a_placed_break_must_say_when_it_is_reached() -> None:
    """A break with a place but no arrival cannot be judged as a leg: malformed."""
    pl = plan()
    stop(pl, 4).update(site="po")
    assert codes(check_plan(request(), pl)) == {"malformed"}


def test_a_ride_after_a_break_at_the_previous_place_must_fit() -> None:
    """Lunch at po 12:00–13:00 leaves no time for the 15-min ride to R1, reached at 13:00."""
    pl = plan()
    stop(pl, 4).update(
        site="po", arrive=at("09:32:00"), start=at("12:00:00"), depart=at("13:00:00")
    )
    assert codes(check_plan(request(), pl)) == {"travel"}


def test_a_break_by_the_way_is_judged_within_its_leg() -> None:
    """A lunch at a point between po and R1 (neither stop's place) is taken by the way: the
    leg po → R1 (15 min) must still hold the ride and the hour of rest (09:32 → 13:00 does),
    and the rest cannot be reached before the courier leaves po (09:32)."""
    pl = plan()
    stop(pl, 4).update(lat=9.015, lon=105.015, arrive=at("11:00:00"))
    assert check_plan(request(), pl) == []
    stop(pl, 4).update(arrive=at("09:20:00"))
    assert codes(check_plan(request(), pl)) == {"time_order"}
