"""The fast next step of a public lookup gives the answer the whole route's progress gives.

``tracking.progress.next_step`` reads only the dossier's own stop, the courier's last stop done
and a plan parsed once per stored plan. The reference here rebuilds the courier's whole route
with :func:`tracking.progress.route_progress` (every stop, every dossier folded) and picks the
dossier's step from it, as public lookups did before; both must agree at every point of a day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from routing.clock import local_iso, parse_day_time
from tests.resilience.fleet import make_fleet, make_outboxes
from tests.tracking import helpers
from tests.tracking.conftest import World, build_world
from tests.tracking.helpers import at, scan
from tracking import create_user, ingest_scans, store_plan
from tracking.lifecycle import Status
from tracking.models import Dossier, StoredPlan, User
from tracking.positions import PositionInput, record_positions
from tracking.progress import (
    DossierTrack,
    RouteProgress,
    next_step,
    route_progress,
)
from tracking.scans import ScanInput
from tracking.views import public_track

_PICKUP = {
    Status.REQUESTED: ("collected", ("pickup",)),
    Status.COLLECTED: ("at_hub", ("handoff",)),
}
_RETURN = {
    Status.PROCESSING: ("out_for_delivery", ("collect",)),
    Status.RESULT_READY: ("out_for_delivery", ("collect",)),
    Status.ON_SHUTTLE: ("out_for_delivery", ("collect",)),
    Status.AT_HUB: ("out_for_delivery", ("collect",)),
    Status.OUT_FOR_DELIVERY: ("delivered", ("delivery",)),
}


def reference_next_step(session: Session, dossier: Dossier, now: datetime) -> dict[str, Any] | None:
    """The next step read off the courier's whole route progress (the slow, obvious way)."""
    if dossier.plan_id is None or dossier.courier_id is None or dossier.job_id is None:
        return None
    plan = session.get(StoredPlan, dossier.plan_id)
    if plan is None:
        return None
    progress = route_progress(session=session, plan=plan, courier_id=dossier.courier_id, now=now)
    track = progress.tracks.get(dossier.job_id)
    status = track.status if track is not None else Status(dossier.status)
    job = progress.jobs.get(dossier.job_id, {})
    steps = _PICKUP if dossier.direction == "pickup" else _RETURN
    if status in steps:
        step, types = steps[status]
        index = progress.stop_index(dossier.job_id, types)
        if index is None:
            return None
        eta = progress.etas[index]
        if step == "at_hub" and job.get("destination_site") == job.get("handoff_site") is not None:
            step = "received"
        return {
            "next_step": step,
            "planned": local_iso(eta.planned_start),
            "expected": local_iso(eta.expected_start or eta.planned_start),
            "by": "courier",
        }
    if dossier.direction != "pickup" or status not in (Status.AT_HUB, Status.ON_SHUTTLE):
        return None
    return _reference_shuttle(progress, dossier, track, status)


def _reference_shuttle(
    progress: RouteProgress, dossier: Dossier, track: DossierTrack | None, status: Status
) -> dict[str, Any] | None:
    assert dossier.job_id is not None
    plan = progress.plan
    index = progress.stop_index(dossier.job_id, ("handoff",))
    planned_run = progress.stops[index].shuttle if index is not None else None
    since = (track.fold.state.at if track else None) or dossier.status_at
    if since is None:
        return None
    site = track.fold.state.site if track else dossier.place_site
    runs = []
    for run in plan.request_json.get("shuttles") or []:
        if run.get("from_site") != site:
            continue
        departs, arrives = (
            parse_day_time(date.fromisoformat(plan.date), run["departs"]),
            parse_day_time(date.fromisoformat(plan.date), run["arrives"]),
        )
        assert departs is not None and arrives is not None
        runs.append((departs, arrives, timedelta(minutes=run.get("handoff_min") or 0), run["id"]))
    runs.sort(key=lambda r: r[0])
    planned = next((r for r in runs if r[3] == planned_run), None)
    if status is Status.ON_SHUTTLE:
        chosen = next((r for r in runs if r[0] >= since - timedelta(minutes=30)), None)
    else:
        chosen = next((r for r in runs if r[0] - r[2] >= since), None)
    if chosen is None:
        return {"next_step": "received", "planned": None, "expected": None, "by": "shuttle"}
    return {
        "next_step": "received",
        "planned": local_iso(planned[1]) if planned else None,
        "expected": local_iso(chosen[1]),
        "by": "shuttle",
    }


def _agree(session: Session, now: datetime) -> int:
    """Assert both ways agree for every dossier; return how many had a next step."""
    session.expire_all()
    answered = 0
    for dossier in session.exec(select(Dossier).order_by(Dossier.code)):
        fast = next_step(session=session, dossier=dossier, now=now)
        slow = reference_next_step(session, dossier, now)
        assert fast == slow, (dossier.code, dossier.status, now)
        answered += fast is not None
    return answered


def test_next_step_agrees_with_the_whole_route_through_the_test_day(world: World) -> None:
    """After each scan and position of the test day, every dossier's next step is the same."""
    script: list[tuple[str, ScanInput | PositionInput]] = [
        ("c2", PositionInput(at=at("08:20"), lat=9.07, lon=104.97)),
        ("staff", scan("D2", "result_ready", "07:30", site="centre")),
        ("staff", scan("D3", "result_ready", "07:40", site="centre")),
        ("c1", scan("D1", "collected", "08:12", lat=9.05, lon=104.98)),
        ("staff", scan("D2", "on_shuttle", "08:00", site="centre")),
        ("staff", scan("D3", "on_shuttle", "08:00", site="centre")),
        ("c1", PositionInput(at=at("08:20"), lat=9.06, lon=104.98)),
        ("c1", scan("D1", "at_hub", "08:41", site="po-tvt")),
        ("staff", scan("D2", "at_hub", "08:25", site="po-tvt")),
        ("c2", scan("D3", "at_hub", "08:26", site="po-tvt")),
        ("c1", scan("D2", "out_for_delivery", "08:50", site="po-tvt")),
        ("c2", scan("D3", "out_for_delivery", "08:45", site="po-tvt")),
        ("c1", scan("D2", "delivery_failed", "13:20", lat=9.02, lon=105.01, reason="not home")),
        ("staff", scan("D1", "on_shuttle", "10:00", site="po-tvt")),
    ]
    answered = 0
    with world.session() as session:
        for name, item in script:
            if isinstance(item, PositionInput):
                record_positions(
                    session=session, courier_id=name, positions=[item], now=at("23:00")
                )
            else:
                user = world.user(name, session)
                ingest_scans(session=session, events=[item], actor=user, now=at("23:00"))
            for hm in ("07:00", "09:00", "13:30"):
                answered += _agree(session, at(hm))
    assert answered > 50  # most of the day, dossiers have a next step to compare


def _half_day(engine: Engine) -> None:
    fleet = make_fleet(couriers=4, dossiers_per_courier=12, seed=5, couriers_per_plan=2)
    with Session(engine) as session:
        for name, role in fleet.users().items():
            create_user(session=session, name=name, role=role)
        for request, plan in fleet.plans:
            store_plan(session=session, request=request, plan=plan, created_by="dispatch-0")
        users = {u.name: u for u in session.exec(select(User))}
        boxes, _ = make_outboxes(fleet, dict.fromkeys(users, ""), resend_share=0.0)
        for box in boxes:
            half = box.pending[: len(box.pending) // 2]
            events = [ScanInput.from_json(e) for e in half]
            ingest_scans(session=session, events=events, actor=users[box.sender])


def test_next_step_agrees_with_the_whole_route_on_a_fleet_half_way(sqlite_engine: Engine) -> None:
    """On a simulated fleet with half its scans in, out of order, every answer is the same."""
    _half_day(sqlite_engine)
    with Session(sqlite_engine) as session:
        dossiers = list(session.exec(select(Dossier)))
        day = session.exec(select(StoredPlan.date)).first()
        assert day is not None and len({d.status for d in dossiers}) >= 3
        noon = datetime.fromisoformat(f"{day}T12:00:00+07:00")
        assert _agree(session, noon) > 10
        assert _agree(session, noon + timedelta(days=1)) > 10


@pytest.mark.parametrize("shift_min", [0, 45])
def test_plans_with_the_same_id_in_two_databases_are_not_mixed_up(
    tmp_path: Any, shift_min: int
) -> None:
    """A plan parsed for one database is not reused for another holding the same plan id."""
    from tracking import make_engine, upgrade

    first = make_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    second = make_engine(f"sqlite:///{tmp_path / 'b.sqlite'}")
    try:
        for engine in (first, second):
            upgrade(engine)
        world = build_world(first)
        plan = helpers.plan()
        for route in plan["routes"]:
            for stop in route["stops"]:
                for key in ("arrive", "start", "depart"):
                    if key in stop:
                        moved = datetime.fromisoformat(stop[key]) + timedelta(minutes=shift_min)
                        stop[key] = moved.isoformat()
        with Session(second) as session:
            store_plan(session=session, request=helpers.request(), plan=plan, created_by="disp")
        with world.session() as session:
            a = public_track(session=session, code="D1", phone_last4="5678", now=at("07:00"))
        with Session(second) as session:
            b = public_track(session=session, code="D1", phone_last4="5678", now=at("07:00"))
        assert a is not None and b is not None
        assert a["expected"] == "2026-11-23T08:00:00+07:00"
        expected = at("08:00") + timedelta(minutes=shift_min)
        assert b["expected"] == expected.isoformat()
    finally:
        first.dispose()
        second.dispose()
