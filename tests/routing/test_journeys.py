"""The earliest journey through the day's shuttle timetable, worked out by hand.

The timetable: a rural post office ``po`` sends a trunk run to the ``centre`` at 08:00 and
10:00 (20 minutes, 10-minute margin: cut-offs 07:50 and 09:50); the centre sends an
inter-agency run to the department ``dept`` at 09:00 and 14:00 (20 minutes, 15-minute margin:
cut-offs 08:45 and 13:45); and a direct run ``po → dept`` leaves at 11:00 (arrives 11:40).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.journeys import earliest_journey, journeys_by_first_run
from routing.request import RequestError, Shuttle, parse_request


def _at(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 3600 + int(m) * 60


def _run(ident: str, frm: str, to: str, departs: str, arrives: str, *, margin: float) -> Shuttle:
    return Shuttle(ident, frm, to, _at(departs), _at(arrives), margin)


TRUNK_08 = _run("po-0800", "po", "centre", "08:00", "08:20", margin=10)
TRUNK_10 = _run("po-1000", "po", "centre", "10:00", "10:20", margin=10)
DEPT_09 = _run("centre-0900", "centre", "dept", "09:00", "09:20", margin=15)
DEPT_14 = _run("centre-1400", "centre", "dept", "14:00", "14:20", margin=15)
DIRECT_11 = _run("po-dept-1100", "po", "dept", "11:00", "11:40", margin=10)
DAY = [DEPT_14, DIRECT_11, TRUNK_10, DEPT_09, TRUNK_08]  # in no particular order


def test_one_leg_to_the_next_run_of_the_site() -> None:
    """At po at 09:00 the 08:00 trunk has gone; the 10:00 one (cut-off 09:50) reaches the
    centre at 10:20."""
    journey = earliest_journey(DAY, "po", _at("09:00"), "centre")
    assert journey is not None
    assert (journey.run_ids, journey.reaches_s) == (("po-1000",), _at("10:20"))


def test_two_legs_with_the_margin_at_the_transfer() -> None:
    """At po at 07:40: trunk 08:00 reaches the centre at 08:20, before the 09:00 run's cut-off
    (08:45), which reaches the department at 09:20."""
    journey = earliest_journey(DAY, "po", _at("07:40"), "dept")
    assert journey is not None
    assert journey.run_ids == ("po-0800", "centre-0900")
    assert journey.reaches_s == _at("09:20")


def test_the_earliest_journey_is_preferred_over_a_later_direct_run() -> None:
    """At po at 07:50 (the trunk's cut-off to the second): two legs reach dept at 09:20, the
    direct 11:00 run only at 11:40."""
    journey = earliest_journey(DAY, "po", _at("07:50"), "dept")
    assert journey is not None
    assert journey.run_ids == ("po-0800", "centre-0900")


def test_a_missed_connection_falls_to_the_direct_run() -> None:
    """At po at 09:00: trunk 10:00 reaches the centre at 10:20, after the 09:00 run; the direct
    11:00 run (11:40) beats the 14:00 connection (14:20)."""
    journey = earliest_journey(DAY, "po", _at("09:00"), "dept")
    assert journey is not None
    assert (journey.run_ids, journey.reaches_s) == (("po-dept-1100",), _at("11:40"))


def test_a_transfer_needs_the_next_runs_margin() -> None:
    """A trunk arriving at 08:50 misses the 09:00 run whose cut-off is 08:45, and takes the
    14:00 one."""
    late_trunk = _run("po-0830", "po", "centre", "08:30", "08:50", margin=10)
    journey = earliest_journey([late_trunk, DEPT_09, DEPT_14], "po", _at("08:00"), "dept")
    assert journey is not None
    assert journey.run_ids == ("po-0830", "centre-1400")
    assert journey.reaches_s == _at("14:20")


def test_no_journey_today() -> None:
    """After the last cut-offs (po at 11:00) nothing reaches the department today."""
    assert earliest_journey(DAY, "po", _at("10:55"), "dept") is None
    assert earliest_journey(DAY, "po", _at("07:00"), "nowhere") is None


def test_staying_at_the_destination_is_arriving() -> None:
    """A dossier already at its destination reaches it when it is there, by no run."""
    journey = earliest_journey(DAY, "dept", _at("12:00"), "dept")
    assert journey is not None
    assert (journey.runs, journey.reaches_s) == ((), _at("12:00"))


def test_journeys_by_first_run_keep_only_what_can_be_worth_it() -> None:
    """From po at 07:00: the 08:00 trunk reaches dept at 09:20 and the 10:00 trunk at 14:20; the
    direct run (cut-off 10:50, 11:40) is later to hand over than both trunks and earlier to
    arrive than the 10:00 one, so the 10:00 trunk is never worth choosing."""
    found = journeys_by_first_run(DAY, "po", "dept", after_s=_at("07:00"))
    assert [(j.run_ids, j.reaches_s) for j in found] == [
        (("po-0800", "centre-0900"), _at("09:20")),
        (("po-dept-1100",), _at("11:40")),
    ]
    later = journeys_by_first_run(DAY, "po", "dept", after_s=_at("08:00"))
    assert [j.run_ids for j in later] == [("po-dept-1100",)]


def test_a_run_arriving_before_it_departs_is_refused_by_the_request() -> None:
    """The connection scan relies on every run arriving no earlier than it departs: the
    request reader refuses such a run and names it."""
    raw = {
        "date": "2026-11-23",
        "sites": [{"id": "po", "lat": 9.1, "lon": 105.1}],
        "shuttles": [
            {"id": "r", "from_site": "po", "to_site": "po", "departs": "10:00", "arrives": "09:00"}
        ],
    }
    with pytest.raises(RequestError, match=r"shuttles\[0\]\.arrives"):
        parse_request(raw)


SITES = ("a", "b", "c", "d")


@st.composite
def _timetables(draw: st.DrawFn) -> list[Shuttle]:
    runs = []
    for i in range(draw(st.integers(0, 12))):
        frm, to = draw(st.sampled_from(SITES)), draw(st.sampled_from(SITES))
        departs = draw(st.integers(0, 20)) * 600  # every 10 minutes up to 03:20
        ride = draw(st.integers(0, 6)) * 600
        margin = draw(st.sampled_from((0, 5, 10)))
        runs.append(Shuttle(f"r{i}", frm, to, departs, departs + ride, margin))
    return runs


def _brute_force(runs: list[Shuttle], origin: str, at_s: int, destination: str) -> int | None:
    """The earliest arrival by relaxing every run until nothing changes (no ordering trick)."""
    best = {origin: at_s}
    changed = True
    while changed:
        changed = False
        for r in runs:
            here = best.get(r.from_site)
            if here is not None and here <= r.cutoff_s and r.arrives_s < best.get(r.to_site, 10**9):
                best[r.to_site] = r.arrives_s
                changed = True
    return best.get(destination)


@settings(max_examples=300, deadline=None)
@given(_timetables(), st.sampled_from(SITES), st.integers(0, 3 * 3600), st.sampled_from(SITES))
def test_the_connection_scan_finds_the_earliest_real_journey(
    runs: list[Shuttle], origin: str, at_s: int, destination: str
) -> None:
    """On random small timetables (zero-minute rides and loops included) the scan's arrival is
    the brute force's, and its runs form a real journey: each caught by its cut-off at the site
    where the one before arrives, the last reaching the destination at that arrival."""
    journey = earliest_journey(runs, origin, at_s, destination)
    expected = _brute_force(runs, origin, at_s, destination)
    if journey is None:
        assert expected is None
        return
    assert journey.reaches_s == expected
    site, time = origin, at_s
    for run in journey.runs:
        assert run.from_site == site and time <= run.cutoff_s
        site, time = run.to_site, run.arrives_s
    assert (site, time) == (destination, journey.reaches_s)


def test_runs_that_take_no_time_and_leave_together_still_connect() -> None:
    """a → b and b → c both leave at 00:10 and take no time, with no margin: listed in either
    order, the dossier at a at 00:00 reaches c at 00:10 by both."""
    first = Shuttle("r1", "a", "b", 600, 600, 0)
    second = Shuttle("r0", "b", "c", 600, 600, 0)
    journey = earliest_journey([second, first], "a", 0, "c")
    assert journey is not None
    assert (journey.run_ids, journey.reaches_s) == (("r1", "r0"), 600)
