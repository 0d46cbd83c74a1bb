"""The checker judges a hand-off's named journey from the timetable alone.

The tiny day of ``tests/checker/tiny.py``, with P1 bound for a department: run-1000 takes it
from po to the centre (departs 10:00, arrives 10:40), and an inter-agency run ``dept-1100``
goes on from the centre at 11:00 (15-minute margin: cut-off 10:45) to ``dept`` at 11:20. The
hand-off at po starts 08:30, so the journey ``run-1000 → dept-1100`` reaches dept at 11:20.
A second inter-agency run ``dept-1500`` (cut-off 14:45, arrives 15:20) gives a later journey.
"""

from __future__ import annotations

from typing import Any

import pytest

from routing.checker import CODES, WARNINGS, Violation, check_plan
from tests.checker.tiny import at, plan, request, stop

Doc = dict[str, Any]


def _dept_run(ident: str, departs: str, arrives: str) -> Doc:
    return {
        "id": ident,
        "from_site": "centre",
        "to_site": "dept",
        "departs": departs,
        "arrives": arrives,
        "handoff_min": 15,
    }


def _two_legs() -> tuple[Doc, Doc]:
    req, pl = request(), plan()
    req["sites"].append({"id": "dept", "kind": "department", "lat": 9.2, "lon": 105.2})
    req["shuttles"] += [
        _dept_run("dept-1100", "11:00", "11:20"),
        _dept_run("dept-1500", "15:00", "15:20"),
    ]
    req["jobs"][0]["destination_site"] = "dept"
    stop(pl, 2)["journeys"] = {"P1": {"runs": ["run-1000", "dept-1100"], "reaches": at("11:20:00")}}
    pl["kpis"]["reaching_today"] = 1
    return req, pl


def _codes(found: list[Violation]) -> set[str]:
    return {v.code for v in found}


def test_a_real_two_leg_journey_passes() -> None:
    """run-1000 arrives at the centre 10:40, before dept-1100's cut-off 10:45: no violation,
    no warning; ``reaching_today`` counts it."""
    req, pl = _two_legs()
    warnings: list[Violation] = []
    assert check_plan(req, pl, warnings=warnings) == []
    assert warnings == []


def test_an_old_plan_without_journeys_is_judged_by_its_direct_run() -> None:
    """A plan written before journeys names only ``shuttle``: a run to the centre cannot carry a
    dossier bound for dept (``wrong_run``), as before."""
    req, pl = _two_legs()
    del stop(pl, 2)["journeys"]
    del pl["kpis"]["reaching_today"]
    assert _codes(check_plan(req, pl)) == {"wrong_run"}


def _made_up_run(req: Doc, pl: Doc) -> None:
    # A journey through a run the timetable does not have.
    stop(pl, 2)["journeys"]["P1"]["runs"][1] = "dept-1200"


def _missed_transfer(req: Doc, pl: Doc) -> None:
    # A 30-minute margin at the centre puts dept-1100's cut-off at 10:30, before run-1000
    # arrives (10:40): the dossier cannot change there.
    req["shuttles"][2]["handoff_min"] = 30


def _wrong_reaches(req: Doc, pl: Doc) -> None:
    # dept-1100 arrives at 11:20, not 11:00.
    stop(pl, 2)["journeys"]["P1"]["reaches"] = at("11:00:00")


def _not_the_shuttle(req: Doc, pl: Doc) -> None:
    # The stop says run-1000, the journey begins with run-1400.
    stop(pl, 2)["journeys"]["P1"] = {"runs": ["run-1400", "dept-1500"], "reaches": at("15:20:00")}


def _ends_elsewhere(req: Doc, pl: Doc) -> None:
    # run-1000 alone leaves P1 at the centre, not at dept.
    stop(pl, 2)["journeys"]["P1"] = {"runs": ["run-1000"], "reaches": at("10:40:00")}


def _no_journey_named(req: Doc, pl: Doc) -> None:
    # The hand-off names journeys, but none for P1.
    stop(pl, 2)["journeys"] = {}
    pl["kpis"]["reaching_today"] = 0


@pytest.mark.parametrize(
    "breaker",
    [
        _made_up_run,
        _missed_transfer,
        _wrong_reaches,
        _not_the_shuttle,
        _ends_elsewhere,
        _no_journey_named,
    ],
)
def test_a_journey_that_is_not_real_is_a_violation(breaker: Any) -> None:
    """Each made-up journey yields ``journey`` violations and nothing else."""
    req, pl = _two_legs()
    breaker(req, pl)
    found = check_plan(req, pl)
    assert _codes(found) == {"journey"}, [str(v) for v in found]
    assert all(v.job == "P1" and v.courier == "c1" for v in found)
    assert "journey" in CODES


def test_a_later_journey_is_a_warning_not_a_violation() -> None:
    """Naming run-1000 → dept-1500 (15:20) is a real journey, but the timetable offered 11:20
    from the 08:30 hand-off: a ``later_journey`` warning, no violation."""
    req, pl = _two_legs()
    stop(pl, 2)["journeys"]["P1"] = {"runs": ["run-1000", "dept-1500"], "reaches": at("15:20:00")}
    warnings: list[Violation] = []
    assert check_plan(req, pl, warnings=warnings) == []
    assert [w.code for w in warnings] == ["later_journey"]
    assert "11:20:00" in warnings[0].detail and "later_journey" in WARNINGS


def test_reaching_today_must_agree_with_the_journeys() -> None:
    """``kpis.reaching_today``, when given, counts the journeys that reach today."""
    req, pl = _two_legs()
    pl["kpis"]["reaching_today"] = 0
    assert _codes(check_plan(req, pl)) == {"kpi"}


def test_a_result_ready_upstream_is_collected_after_the_runs_bring_it() -> None:
    """R1's result is ready at the centre at 09:00; a run ``back-0930`` (cut-off 09:20)
    brings it to po at 10:10. The plan collects it at 09:30: too early (``ready``). With the
    result ready at 09:30 at the centre, no run brings it today: also ``ready``."""
    req, pl = request(), plan()
    req["shuttles"].append(
        {
            "id": "back-0930",
            "from_site": "centre",
            "to_site": "po",
            "departs": "09:30",
            "arrives": "10:10",
            "handoff_min": 10,
        }
    )
    req["jobs"][1] |= {"ready_site": "centre", "ready_at": "09:00"}
    found = check_plan(req, pl)
    assert _codes(found) == {"ready"} and "10:10:00" in found[0].detail
    req["jobs"][1]["ready_at"] = "09:30"
    found = check_plan(req, pl)
    assert _codes(found) == {"ready"} and "no run brings" in found[0].detail
    req["jobs"][1]["ready_at"] = "08:00"
    stop(pl, 3).update(start=at("10:10:00"), depart=at("10:12:00"))
    assert check_plan(req, pl) == []
