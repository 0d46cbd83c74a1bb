"""What a draft changes against the published plan (routing/diff.py), on hand-made plans.

The published plan: courier c1 picks up J1 at 08:00 and hands it over for run-1000, then
delivers J2 at 13:00; courier c2 picks up J3 at 09:00. Each draft below changes one thing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from routing.diff import RETIME_MIN, compare_plans, served_jobs
from routing.plan import Plan, Route, Stop, Unassigned

VN = timezone(timedelta(hours=7))
DAY = date(2026, 11, 23)


def at(hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(DAY.year, DAY.month, DAY.day, hours, minutes, tzinfo=VN)


def home(kind: str, job: str, hhmm: str) -> Stop:
    return Stop(kind=kind, job=job, arrive=at(hhmm), start=at(hhmm))


def route(courier: str, *stops: Stop, km: float = 10.0, done: tuple[Stop, ...] = ()) -> Route:
    return Route(courier=courier, stops=stops, distance_km=km, done=done or None)


def plan(*routes: Route, unassigned: tuple[Unassigned, ...] = ()) -> Plan:
    return Plan(plan_id="p", date=DAY, status="partial", routes=routes, unassigned=unassigned)


HANDOFF = Stop(kind="handoff", site="po", jobs=("J1",), shuttle="run-1000", arrive=at("08:30"))
PUBLISHED = plan(
    route("c1", home("pickup", "J1", "08:00"), HANDOFF, home("delivery", "J2", "13:00")),
    route("c2", home("pickup", "J3", "09:00"), km=5.0),
)


def test_the_same_plan_changes_nothing() -> None:
    """A draft equal to the published plan has no change and zero deltas."""
    diff = compare_plans(PUBLISHED, PUBLISHED)
    assert diff.changes == ()
    assert {name: k.delta for name, k in diff.kpis.items()} == {
        "served": 0, "unassigned": 0, "distance_km": 0.0, "runs_caught": 0
    }  # fmt: skip
    assert diff.kpis["runs_caught"].draft == 1  # J1 catches run-1000


def test_a_job_on_another_courier_is_moved() -> None:
    """J3 goes from c2 to c1 at the same time: moved, not retimed."""
    draft = plan(
        route("c1", home("pickup", "J1", "08:00"), HANDOFF, home("pickup", "J3", "09:00"),
              home("delivery", "J2", "13:00")),
    )  # fmt: skip
    (change,) = compare_plans(PUBLISHED, draft).changes
    assert (change.job, change.change, change.before, change.after) == ("J3", "moved", "c2", "c1")


def test_a_visit_moved_by_more_than_ten_minutes_is_retimed() -> None:
    """J2 at 13:11 is 11 minutes later (retimed); J3 at 09:10 is exactly 10 (no change)."""
    assert RETIME_MIN == 10
    draft = plan(
        route("c1", home("pickup", "J1", "08:00"), HANDOFF, home("delivery", "J2", "13:11")),
        route("c2", home("pickup", "J3", "09:10"), km=5.0),
    )
    (change,) = compare_plans(PUBLISHED, draft).changes
    assert (change.job, change.change, change.minutes) == ("J2", "retimed", 11)
    assert change.before_start == at("13:00") and change.after_start == at("13:11")


def test_a_job_left_out_is_dropped_with_the_draft_s_reason() -> None:
    """J3 unassigned in the draft is dropped with its reason; a job absent is not_in_draft."""
    why = Unassigned(job="J3", reason="no_time", detail="c2's shift ends at 09:00")
    draft = plan(route("c1", home("pickup", "J1", "08:00"), HANDOFF, km=6.0), unassigned=(why,))
    diff = compare_plans(PUBLISHED, draft)
    dropped = {c.job: (c.reason, c.detail, c.before) for c in diff.changes}
    assert dropped == {
        "J2": ("not_in_draft", None, "c1"),
        "J3": ("no_time", "c2's shift ends at 09:00", "c2"),
    }
    assert diff.count("dropped") == 2
    assert diff.kpis["served"].delta == -2  # 3 served before, 1 now
    assert diff.kpis["distance_km"].delta == -9.0  # 15 km before, 6 now


def test_done_stops_count_as_served_and_never_move() -> None:
    """A re-plan keeps J1 in c1's done stops: still served, not dropped, even on another
    courier's record; a new job J4 is added."""
    kept = route("c1", home("delivery", "J2", "14:00"), done=(home("pickup", "J1", "08:00"),
                 HANDOFF))  # fmt: skip
    draft = plan(kept, route("c2", home("pickup", "J3", "09:00"), home("pickup", "J4", "10:00")))
    diff = compare_plans(PUBLISHED, draft)
    assert {(c.job, c.change) for c in diff.changes} == {("J2", "retimed"), ("J4", "added")}
    assert served_jobs(draft) == {"J1", "J2", "J3", "J4"}
    assert diff.kpis["runs_caught"].delta == 0  # J1's hand-off is done, still caught
    moved_done = plan(replace(kept, courier="c9"), route("c2", home("pickup", "J3", "09:00")))
    assert [c.job for c in compare_plans(PUBLISHED, moved_done).changes] == ["J2"]


def test_without_a_published_plan_every_served_job_is_added() -> None:
    """The day's first draft: every served job is added and no figure has a delta."""
    diff = compare_plans(None, PUBLISHED)
    assert [(c.job, c.change) for c in diff.changes] == [
        ("J1", "added"), ("J2", "added"), ("J3", "added")
    ]  # fmt: skip
    assert diff.kpis["served"].published is None and diff.kpis["served"].delta is None
