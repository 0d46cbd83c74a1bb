"""Every unassigned reason, each on the smallest request that provokes it, and bad requests.

The rest of each request is still planned, and every plan passes the independent checker.
"""

from __future__ import annotations

from typing import Any

import pytest

from routing import RequestError, plan_request
from routing.request import MAX_ENTRIES, parse_request
from tests.routing.helpers import courier, pickup, reasons, request, ret, solve_checked


def _one_bad_one_good(bad: dict[str, Any], pos: float = 10, **kw: Any) -> dict[str, Any]:
    good = pickup("OK", ["09:00", "10:00"])
    return solve_checked(request([bad, good], {bad["id"]: pos, "OK": 10}, **kw))


def test_unknown_site() -> None:
    """A hand-off site missing from the request's sites gives ``unknown_site``; OK is served."""
    plan = _one_bad_one_good(pickup("X", ["09:00", "10:00"], handoff_site="nowhere"))
    assert reasons(plan) == {"X": "unknown_site"}
    assert "nowhere" in plan["unassigned"][0]["detail"]


def test_window_outside_shifts() -> None:
    """A window 18:00–19:00 after the only shift (07:00–17:00) gives ``window_outside_shifts``."""
    plan = _one_bad_one_good(pickup("X", ["18:00", "19:00"]))
    assert reasons(plan) == {"X": "window_outside_shifts"}
    assert "18:00–19:00" in plan["unassigned"][0]["detail"]


def test_window_unreachable() -> None:
    """A home 90 min away with window 07:00–07:30 cannot be reached: the courier starts 07:00.

    Earliest arrival 07:00 + 90 min = 08:30 > 07:30 → ``window_unreachable`` naming 08:30.
    """
    plan = _one_bad_one_good(pickup("X", ["07:00", "07:30"]), pos=90)
    assert reasons(plan) == {"X": "window_unreachable"}
    assert "08:30" in plan["unassigned"][0]["detail"]


def test_ready_after_window() -> None:
    """A result ready at 15:00 for a window 09:00–12:00 gives ``ready_after_window``."""
    plan = _one_bad_one_good(ret("X", ["09:00", "12:00"], "15:00"))
    assert reasons(plan) == {"X": "ready_after_window"}


def test_over_capacity() -> None:
    """Eleven bags for couriers that hold ten give ``over_capacity`` naming the largest, 10."""
    plan = _one_bad_one_good(pickup("X", ["09:00", "10:00"], size=11))
    assert reasons(plan) == {"X": "over_capacity"}
    assert "10" in plan["unassigned"][0]["detail"]


def test_courier_with_zero_capacity() -> None:
    """A courier who can carry nothing leaves every job ``over_capacity`` without crashing."""
    req = request([pickup("X", ["09:00", "10:00"])], {"X": 10}, couriers=[courier(capacity=0)])
    plan = solve_checked(req)
    assert reasons(plan) == {"X": "over_capacity"}
    assert plan["routes"] == []


def test_missing_skill() -> None:
    """A job needing ``boat`` when no courier has it gives ``missing_skill`` naming the skill."""
    plan = _one_bad_one_good(pickup("X", ["09:00", "10:00"], skills=["boat"]))
    assert reasons(plan) == {"X": "missing_skill"}
    assert "boat" in plan["unassigned"][0]["detail"]


def test_zero_couriers() -> None:
    """No courier at all: every job is ``no_courier``; OR-Tools is never asked (it would abort)."""
    jobs = [pickup("A", ["09:00", "10:00"]), ret("B", ["09:00", "12:00"], "08:00")]
    plan = solve_checked(request(jobs, {"A": 5, "B": 6}, couriers=[]))
    assert reasons(plan) == {"A": "no_courier", "B": "no_courier"}
    assert plan["status"] == "partial"


def test_site_closed() -> None:
    """A return whose site closes (12:00) before the result is ready there (13:00)."""
    sites = [
        {
            "id": "po",
            "kind": "post_office",
            "lat": 9.17,
            "lon": 105.15,
            "opening": ["07:00", "12:00"],
        },
        {"id": "centre", "kind": "centre", "lat": 9.18, "lon": 105.16},
    ]
    bad = ret("X", ["13:00", "16:00"], "13:00")
    plan = solve_checked(request([bad], {"X": 10}, sites=sites))
    assert reasons(plan) == {"X": "site_closed"}


def test_no_time() -> None:
    """Two pickups, 09:00–09:10, 60 min apart on either side of po; one courier does one.

    Each alone is feasible (diagnosis passes); together the solver drops one: ``no_time``.
    """
    jobs = [pickup("A", ["09:00", "09:10"]), pickup("B", ["09:00", "09:10"])]
    plan = solve_checked(request(jobs, {"A": 60, "B": -60}))
    assert list(reasons(plan).values()) == ["no_time"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.pop("date"), "date"),
        (lambda r: r["jobs"][0].pop("window"), "jobs[0].window"),
        (lambda r: r["jobs"][0].update(window=["10:00", "09:00"]), "jobs[0].window"),
        (lambda r: r["jobs"][0].update(window=["9h", "10:00"]), "jobs[0].window[0]"),
        (lambda r: r["jobs"].append(dict(r["jobs"][0])), "jobs[1].id"),
        (lambda r: r["couriers"][0].update(start_site="mars"), "couriers[0].start_site"),
        (lambda r: r["couriers"][0].update(capacity=-1), "couriers[0].capacity"),
        (lambda r: r["couriers"][0].update(mode="rocket"), "couriers[0].mode"),
        (lambda r: r["jobs"][0].update(lat="north"), "jobs[0]"),
        (lambda r: r["jobs"][0].update(kind="parcel"), "jobs[0].kind"),
        (lambda r: r["options"].update(time_limit_s=-1), "options.time_limit_s"),
        (lambda r: r["options"].update(solution_limit=0), "options.solution_limit"),
        (lambda r: r["options"].update(solution_limit=2.5), "options.solution_limit"),
        (lambda r: r["travel"]["ids"].pop(), "travel"),
    ],
)
def test_bad_requests_name_the_field(mutate: Any, field: str) -> None:
    """Each malformed request raises RequestError (a ValueError) whose message names the field."""
    req = request([pickup("P1", ["09:00", "10:00"])], {"P1": 10})
    mutate(req)
    with pytest.raises(RequestError) as err:
        plan_request(req)
    assert str(err.value).startswith(field), str(err.value)
    assert isinstance(err.value, ValueError)


def test_shift_too_short_for_the_breaks_is_an_error() -> None:
    """A 07:00–07:30 shift cannot hold a 60-minute lunch: the error names the break."""
    c = courier(
        shift=["07:00", "07:30"],
        breaks=[{"earliest": "07:00", "latest": "13:00", "duration_min": 60}],
    )
    with pytest.raises(RequestError, match=r"couriers\[0\]\.breaks\[0\]"):
        plan_request(request([], {}, couriers=[c]))


def test_a_request_over_the_size_limit_is_refused_naming_the_limit() -> None:
    """5,001 jobs is one over MAX_ENTRIES["jobs"]: refused at once, before any solve, with the
    field and the limit named (the API answers it 422)."""
    job = {"kind": "pickup", "dossier": "D", "lat": 9.1, "lon": 105.1, "window": ["08:00", "09:00"],
           "handoff_site": "po"}  # fmt: skip
    jobs = [job | {"id": f"J{i}"} for i in range(MAX_ENTRIES["jobs"] + 1)]
    with pytest.raises(RequestError, match=r"^jobs: holds 5,001 entries, over the limit of 5,000"):
        parse_request({"date": "2026-11-23", "jobs": jobs})
