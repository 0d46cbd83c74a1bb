"""A route's progress through the day: which stops are done, and when the rest are expected.

Stops are matched to scans by the dossiers they concern: a pickup stop is done when its dossier
is collected, a hand-off when the dossiers collected for it are at the hub (or beyond), a
collect stop when its results are out for delivery, a delivery when delivered (``failed`` when
the attempt failed). Expected times come from :mod:`tracking.eta`.

A dossier waiting at a site or riding a shuttle follows the journey its hand-off names (DESIGN
§4): its next step names the journey's run from where it is and is expected when the journey
reaches the destination; a plan written before journeys gives the next run from its site.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as date_cls
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from geo.coords import LatLon
from routing.clock import (
    LOCAL_TZ,
    at_seconds,
    local_day_bounds,
    local_iso,
    local_midnight,
    parse_day_time,
)
from routing.journeys import earliest_journey, timetable_of
from routing.plan import PlannedJourney, Stop, stop_to_json
from routing.request import Shuttle
from tracking.db import session_engine
from tracking.eta import TYPICAL_SPEED_KMH, StopEta, route_etas
from tracking.lifecycle import EventType, Fold, LifecycleEvent, Status
from tracking.models import CitizenContact, CourierPosition, Dossier, ScanEvent, StoredPlan
from tracking.state import counting_events, fold_dossier

_HANDED = frozenset({Status.AT_HUB, Status.ON_SHUTTLE, Status.RECEIVED})
_OUT = frozenset(
    {Status.OUT_FOR_DELIVERY, Status.DELIVERED, Status.DELIVERY_FAILED, Status.RETURNED}
)


@dataclass
class DossierTrack:
    """A dossier with its stored scans and their fold.

    ``rows`` holds the stored scans when loaded in full (:func:`load_tracks`); a lookup's
    lighter track (:func:`_fold_tracks`) leaves it empty and keeps ``events``, the scans that
    count, read column by column.
    """

    dossier: Dossier
    rows: list[ScanEvent]
    fold: Fold
    events: list[LifecycleEvent] | None = None

    @property
    def status(self) -> Status:
        """The derived status."""
        return self.fold.state.status

    def applied(self, *types: EventType) -> list[datetime]:
        """Device times of the applied events of these types, in fold order."""
        by_id: dict[str, tuple[str, datetime]] = (
            {r.event_id: (r.type, r.device_at) for r in self.rows}
            if self.events is None
            else {e.key: (e.type.value, e.at) for e in self.events}
        )
        wanted = {t.value for t in types}
        out: list[datetime] = []
        for key in self.fold.order:
            found = by_id.get(key)
            if found is not None and self.fold.outcomes.get(key) is None and found[0] in wanted:
                out.append(found[1])
        return out


def load_tracks(session: Session, dossiers: Iterable[Dossier]) -> dict[int, DossierTrack]:
    """Load and fold the scans of many dossiers at once (dossier id → track)."""
    by_id = {d.id: d for d in dossiers if d.id is not None}
    rows: dict[int, list[ScanEvent]] = {i: [] for i in by_id}
    if by_id:
        stmt = (
            select(ScanEvent)
            .where(col(ScanEvent.dossier_id).in_(list(by_id)))
            .order_by(col(ScanEvent.id))
        )
        for row in session.exec(stmt):
            rows[row.dossier_id].append(row)
    return {
        i: DossierTrack(d, rows[i], fold_dossier(session, d, rows=rows[i]))
        for i, d in by_id.items()
    }


def _fold_tracks(session: Session, dossiers: Iterable[Dossier]) -> dict[int, DossierTrack]:
    """Fold the scans of many dossiers from the columns the fold needs (dossier id → track).

    The same folds as :func:`load_tracks`, without building full scan rows: for lookups.
    """
    by_id = {d.id: d for d in dossiers if d.id is not None}
    counting = counting_events(session, list(by_id))
    return {
        i: DossierTrack(d, [], fold_dossier(session, d, counting=counting[i]), events=counting[i])
        for i, d in by_id.items()
    }


def last_position(session: Session, courier_id: str, date: str) -> tuple[LatLon, datetime] | None:
    """Return the courier's last reported position on a day (device time), if any."""
    start, end = local_day_bounds(date)
    stmt = (
        select(CourierPosition)
        .where(
            CourierPosition.courier_id == courier_id,
            col(CourierPosition.at) >= start,
            col(CourierPosition.at) < end,
        )
        .order_by(col(CourierPosition.at).desc(), col(CourierPosition.id).desc())
        .limit(1)
    )
    row = session.exec(stmt).first()
    return None if row is None else (LatLon(row.lat, row.lon), row.at)


@dataclass
class RouteProgress:
    """One courier's route in a stored plan, with the state of each stop."""

    plan: StoredPlan
    courier_id: str
    stops: Sequence[Stop]
    jobs: dict[str, dict[str, Any]]
    tracks: dict[str, DossierTrack]
    etas: list[StopEta]
    position: tuple[LatLon, datetime] | None
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)

    def stop_index(self, job_id: str, types: Sequence[str]) -> int | None:
        """Return the index of the first stop of these types that concerns a job."""
        for i, stop in enumerate(self.stops):
            if stop.kind in types and job_id in stop.job_ids:
                return i
        return None

    def stop_list(self, *, session: Session) -> list[dict[str, Any]]:
        """Return the courier's stop list (see :func:`tracking.plans.courier_stops`)."""
        ids = [t.dossier.id for t in self.tracks.values() if t.dossier.id is not None]
        contacts: dict[int, CitizenContact] = {}
        if ids:
            stmt = select(CitizenContact).where(col(CitizenContact.dossier_id).in_(ids))
            contacts = {c.dossier_id: c for c in session.exec(stmt)}
        out: list[dict[str, Any]] = []
        for eta, stop in zip(self.etas, self.stops, strict=True):
            item = stop_to_json(stop)
            item["index"] = eta.index
            item["state"] = eta.state
            item["actual"] = local_iso(eta.actual)
            item["expected_arrive"] = local_iso(eta.expected_arrive)
            item["expected_start"] = local_iso(eta.expected_start)
            item["delay_min"] = None if eta.delay_s is None else round(eta.delay_s / 60, 1)
            job_id = stop.job
            if job_id is not None:
                job = self.jobs.get(str(job_id), {})
                track = self.tracks.get(str(job_id))
                contact = contacts.get(track.dossier.id) if track and track.dossier.id else None
                item["kind"] = job.get("kind")
                item["dossier"] = job.get("dossier")
                item["procedure"] = job.get("procedure")
                item["window"] = job.get("window")
                item["size"] = job.get("size", 1)
                item["status"] = track.status.value if track else None
                item["address"] = contact.address if contact else None
                item["citizen"] = (
                    {"name": contact.name, "phone": contact.phone} if contact else None
                )
            if stop.site is not None:
                item["site_name"] = self.sites.get(stop.site, {}).get("name")
            if stop.jobs:
                listed = [
                    {
                        "job": j,
                        "dossier": self.jobs.get(str(j), {}).get("dossier"),
                        "status": (
                            self.tracks[str(j)].status.value if str(j) in self.tracks else None
                        ),
                    }
                    for j in stop.jobs
                ]
                item["collect" if stop.kind == "collect" else "hand_over"] = listed
            out.append(item)
        return out


def _job_stop_state(kind: str, track: DossierTrack | None) -> tuple[str, datetime] | None:
    if track is None:
        return None
    state_at = track.fold.state.at or _EPOCH
    if kind == "pickup":
        if track.status is Status.REQUESTED:
            return None
        return "done", (track.applied(EventType.COLLECTED) or [state_at])[0]
    if track.status is Status.DELIVERED:
        return "done", (track.applied(EventType.DELIVERED) or [state_at])[-1]
    if track.status in (Status.DELIVERY_FAILED, Status.RETURNED):
        return "failed", (track.applied(EventType.DELIVERY_FAILED) or [state_at])[-1]
    return None


def _stop_state(stop: Stop, tracks: Mapping[str, DossierTrack]) -> tuple[str, datetime] | None:
    kind = stop.kind
    if kind in ("pickup", "delivery"):
        return _job_stop_state(kind, tracks.get(str(stop.job)))
    if kind not in ("handoff", "collect"):
        return None
    group = [tracks[j] for j in stop.jobs if j in tracks]
    if kind == "handoff":
        group = [t for t in group if t.status is not Status.REQUESTED]
        ready, types = _HANDED, [EventType.AT_HUB, EventType.RECEIVED]
    else:
        ready, types = _OUT, [EventType.OUT_FOR_DELIVERY]
    if not group or any(t.status not in ready for t in group):
        return None
    times = [(t.applied(*types) or [t.fold.state.at or _EPOCH])[0] for t in group]
    return "done", max(times)


_EPOCH = datetime(1970, 1, 1, tzinfo=LOCAL_TZ)


def route_progress(
    *, session: Session, plan: StoredPlan, courier_id: str, now: datetime
) -> RouteProgress:
    """Return the progress of one courier's route in a stored plan.

    Parameters
    ----------
    session
        The database session.
    plan
        The stored plan.
    courier_id
        The courier whose route it is (an empty route if the plan has none for it).
    now
        The current time, for expected times.
    """
    request = plan.request_json
    route = plan.plan().route_of(courier_id)
    stops = route.stops if route is not None else ()
    jobs, sites = plan.request_items("jobs"), plan.request_items("sites")
    job_ids = {j for s in stops for j in s.job_ids}
    code_of = {j: str(jobs[j]["dossier"]) for j in job_ids if jobs.get(j, {}).get("dossier")}
    dossiers = (
        list(session.exec(select(Dossier).where(col(Dossier.code).in_(list(code_of.values())))))
        if code_of
        else []
    )
    by_code = {d.code: d for d in dossiers}
    loaded = load_tracks(session, dossiers)
    tracks = {
        j: loaded[by_code[c].id]  # type: ignore[index]
        for j, c in code_of.items()
        if c in by_code and by_code[c].id in loaded
    }
    done: dict[int, datetime] = {}
    failed: dict[int, datetime] = {}
    for i, stop in enumerate(stops):
        state = _stop_state(stop, tracks)
        if state is not None:
            (done if state[0] == "done" else failed)[i] = state[1]
    finished = set(done) | set(failed)
    last = max(finished) if finished else -1
    for i, stop in enumerate(stops):
        if i < last and i not in finished and stop.kind in ("start", "break"):
            done[i] = stop.begins or _EPOCH
    points: dict[int, LatLon] = {}
    for i, stop in enumerate(stops):
        point = _point(stop, sites)
        if point is not None:
            points[i] = point
    mode = next(
        (
            c.get("mode")
            for c in request.get("couriers") or []
            if isinstance(c, dict) and c.get("id") == courier_id
        ),
        "motorbike",
    )
    position = last_position(session, courier_id, plan.date)
    etas = route_etas(
        stops,
        done=done,
        failed=failed,
        now=now,
        last_position=position,
        stop_points=points,
        speed_kmh=TYPICAL_SPEED_KMH.get(str(mode), TYPICAL_SPEED_KMH["motorbike"]),
    )
    return RouteProgress(
        plan=plan,
        courier_id=courier_id,
        stops=stops,
        jobs=jobs,
        tracks=tracks,
        etas=etas,
        position=position,
        sites=sites,
    )


def _point(stop: Stop, sites: Mapping[str, Mapping[str, Any]]) -> LatLon | None:
    if stop.point is not None:
        return stop.point
    try:
        site = sites.get(str(stop.site))
        if site is not None:
            return LatLon(float(site["lat"]), float(site["lon"]))
    except (KeyError, TypeError, ValueError):
        return None
    return None


_PICKUP_STEPS: dict[Status, tuple[str, tuple[str, ...]]] = {
    Status.REQUESTED: ("collected", ("pickup",)),
    Status.COLLECTED: ("at_hub", ("handoff",)),
}
_RETURN_STEPS: dict[Status, tuple[str, tuple[str, ...]]] = {
    Status.PROCESSING: ("out_for_delivery", ("collect",)),
    Status.RESULT_READY: ("out_for_delivery", ("collect",)),
    Status.ON_SHUTTLE: ("out_for_delivery", ("collect",)),
    Status.AT_HUB: ("out_for_delivery", ("collect",)),
    Status.OUT_FOR_DELIVERY: ("delivered", ("delivery",)),
}


@dataclass(frozen=True)
class _Route:
    """One courier's route of a stored plan, indexed for lookups (read-only, shared)."""

    stops: Sequence[Stop]
    stop_jobs: list[tuple[str, ...]]
    job_stops: dict[str, list[tuple[int, str]]]
    points: dict[int, LatLon]
    speed_kmh: float

    def stop_index(self, job_id: str, types: Sequence[str]) -> int | None:
        """Return the index of the first stop of these types that concerns a job."""
        return next((i for i, kind in self.job_stops.get(job_id, ()) if kind in types), None)


@dataclass(frozen=True)
class _PlanIndex:
    """What lookups need of a stored plan, parsed once (stored plans never change)."""

    date: str
    jobs: dict[str, dict[str, Any]]
    shuttles: list[dict[str, Any]]
    routes: dict[str, _Route]
    timetable: tuple[Shuttle, ...] = ()
    run_by_id: dict[str, Shuttle] = field(default_factory=dict)

    @classmethod
    def build(cls, plan: StoredPlan) -> _PlanIndex:
        """Index a stored plan's routes by courier and its jobs by id."""
        request = plan.request_json
        jobs, sites = plan.request_items("jobs"), plan.request_items("sites")
        modes = {
            c.get("id"): c.get("mode")
            for c in reversed(request.get("couriers") or [])
            if isinstance(c, dict)
        }
        routes: dict[str, _Route] = {}
        for route in reversed(plan.plan().routes):
            courier = route.courier
            stops = route.stops
            stop_jobs: list[tuple[str, ...]] = []
            job_stops: dict[str, list[tuple[int, str]]] = {}
            points: dict[int, LatLon] = {}
            for i, stop in enumerate(stops):
                ids = stop.job_ids
                stop_jobs.append(ids)
                for job_id in dict.fromkeys(ids):
                    job_stops.setdefault(job_id, []).append((i, stop.kind))
                point = _point(stop, sites)
                if point is not None:
                    points[i] = point
            mode = str(modes.get(courier, "motorbike"))
            routes[courier] = _Route(
                stops=stops,
                stop_jobs=stop_jobs,
                job_stops=job_stops,
                points=points,
                speed_kmh=TYPICAL_SPEED_KMH.get(mode, TYPICAL_SPEED_KMH["motorbike"]),
            )
        shuttles = [dict(r) for r in request.get("shuttles") or [] if isinstance(r, dict)]
        timetable = tuple(timetable_of(shuttles, date_cls.fromisoformat(plan.date)))
        return cls(
            date=plan.date,
            jobs=jobs,
            shuttles=shuttles,
            routes=routes,
            timetable=timetable,
            run_by_id={r.id: r for r in timetable},
        )


_NO_ROUTE = _Route(stops=(), stop_jobs=[], job_stops={}, points={}, speed_kmh=0.0)

_PLAN_CACHE_SIZE = 32
_plan_cache: OrderedDict[tuple[str, str, datetime], _PlanIndex] = OrderedDict()
_plan_cache_lock = threading.Lock()


def _plan_index(session: Session, plan_id: str) -> _PlanIndex | None:
    """Return a stored plan's index, parsed once per plan and database, or ``None``.

    Stored plans are never changed once written, so an index is kept for the process (the
    ``_PLAN_CACHE_SIZE`` most recently used). Its key is the database, the plan id and the
    plan's ``created_at``: a plan deleted and stored again under the same id gets a new one.
    """
    stmt = select(StoredPlan.created_at).where(StoredPlan.id == plan_id)
    created_at = session.exec(stmt).first()
    if created_at is None:
        return None
    key = (session_engine(session).url.render_as_string(), plan_id, created_at)
    with _plan_cache_lock:
        index = _plan_cache.get(key)
        if index is not None:
            _plan_cache.move_to_end(key)
            return index
    plan = session.get(StoredPlan, plan_id)
    if plan is None:
        return None
    index = _PlanIndex.build(plan)
    with _plan_cache_lock:
        _plan_cache[key] = index
        while len(_plan_cache) > _PLAN_CACHE_SIZE:
            _plan_cache.popitem(last=False)
    return index


def _tracks_of_jobs(
    session: Session,
    jobs: Mapping[str, Mapping[str, Any]],
    job_ids: Iterable[str],
    known_dossiers: Iterable[Dossier] = (),
) -> dict[str, DossierTrack]:
    """Fold the dossiers of some jobs of a plan (job id → track), as route_progress does.

    ``known_dossiers`` are rows already loaded (the dossier looked up), not read again.
    """
    code_of = {j: str(jobs[j]["dossier"]) for j in job_ids if jobs.get(j, {}).get("dossier")}
    if not code_of:
        return {}
    known = {d.code: d for d in known_dossiers if d.code in code_of.values()}
    missing = sorted(set(code_of.values()) - set(known))
    by_code = dict(known)
    if missing:
        stmt = select(Dossier).where(col(Dossier.code).in_(missing))
        by_code.update((d.code, d) for d in session.exec(stmt))
    loaded = _fold_tracks(session, by_code.values())
    return {
        j: loaded[by_code[c].id]  # type: ignore[index]
        for j, c in code_of.items()
        if c in by_code and by_code[c].id in loaded
    }


def cached_stop_state(kind: str, statuses: Sequence[Status]) -> str | None:
    """``"done"``, ``"failed"`` or ``None``: a stop's state from its dossiers' cached statuses.

    The same rules as :func:`_stop_state`, read from the status column that ingestion keeps
    equal to the fold of each dossier's events (the first status is the stop's own dossier for
    a home stop); a failed delivery is ``"failed"``, every other finished stop ``"done"``.
    """
    if not statuses:
        return None
    first = statuses[0]
    if kind == "delivery" and first in (Status.DELIVERY_FAILED, Status.RETURNED):
        return "failed"
    handed = [s for s in statuses if s is not Status.REQUESTED]
    done = {
        "pickup": first is not Status.REQUESTED,
        "delivery": first is Status.DELIVERED,
        "handoff": bool(handed) and all(s in _HANDED for s in handed),
        "collect": all(s in _OUT for s in statuses),
    }
    return "done" if done.get(kind, False) else None


def _stop_eta(
    session: Session, index: _PlanIndex, courier_id: str, target: int, now: datetime
) -> StopEta:
    """Return the expected times of one stop, as :func:`route_progress` would give them.

    Only the stops that decide it are folded: the last stop done or failed (found from the
    dossiers' cached statuses, newest stop first, and confirmed on the fold) and the stop
    itself. The rest of the route contributes its planned times only.
    """
    route = index.routes.get(courier_id, _NO_ROUTE)
    stops = route.stops
    job_ids = {j for ids in route.stop_jobs for j in ids}
    codes = {
        j: str(index.jobs[j]["dossier"]) for j in job_ids if index.jobs.get(j, {}).get("dossier")
    }
    # What folding needs of each dossier on the route, in one query (no full rows).
    rows: dict[str, tuple[int, str, str, str | None]] = {}
    if codes:
        stmt = sa.select(
            col(Dossier.code),
            col(Dossier.id),
            col(Dossier.status),
            col(Dossier.direction),
            col(Dossier.courier_id),
        ).where(col(Dossier.code).in_(sorted(set(codes.values()))))
        rows = {
            code: (i, status, way, courier)
            for code, i, status, way, courier in session.execute(stmt)
        }
    status_of = {j: Status(rows[c][1]) for j, c in codes.items() if c in rows}

    def state_of(i: int) -> tuple[str, datetime] | None:
        stop = stops[i]
        statuses = [status_of[j] for j in route.stop_jobs[i] if j in status_of]
        if cached_stop_state(stop.kind, statuses) is None:
            return None
        known = [
            Dossier(id=r[0], code=c, status=r[1], direction=r[2], courier_id=r[3])
            for c, r in ((codes[j], rows[codes[j]]) for j in route.stop_jobs[i] if j in status_of)
        ]
        return _stop_state(stop, _tracks_of_jobs(session, index.jobs, route.stop_jobs[i], known))

    done: dict[int, datetime] = {}
    failed: dict[int, datetime] = {}
    last = -1
    for i in range(len(stops) - 1, -1, -1):
        state = state_of(i)
        if state is not None:
            (done if state[0] == "done" else failed)[i] = state[1]
            last = i
            break
    if target < last:
        state = state_of(target)
        if state is not None:
            (done if state[0] == "done" else failed)[target] = state[1]
    position = last_position(session, courier_id, index.date)
    etas = route_etas(
        stops[: max(target, last) + 1],
        done=done,
        failed=failed,
        now=now,
        last_position=position,
        stop_points=route.points,
        speed_kmh=route.speed_kmh,
    )
    return etas[target]


def next_step(*, session: Session, dossier: Dossier, now: datetime) -> dict[str, Any] | None:
    """Return a dossier's next step and when it is planned and expected.

    The answer is the one :func:`route_progress` gives for the dossier's stop, computed from
    the plan's route (parsed once per stored plan), the cached statuses of the route's dossiers,
    and the folded scans of the dossier itself and of the courier's last stop done only.

    Returns
    -------
    dict or None
        ``{"next_step": <event type>, "planned": iso, "expected": iso, "by": "courier" |
        "shuttle"}``; ``None`` when the dossier is not on a stored route or is final.
    """
    if dossier.plan_id is None or dossier.courier_id is None or dossier.job_id is None:
        return None
    index = _plan_index(session, dossier.plan_id)
    if index is None:
        return None
    job_id = dossier.job_id
    route = index.routes.get(dossier.courier_id, _NO_ROUTE)
    on_route = job_id in route.job_stops
    track = (
        _tracks_of_jobs(session, index.jobs, [job_id], [dossier]).get(job_id) if on_route else None
    )
    status = track.status if track is not None else Status(dossier.status)
    job = index.jobs.get(job_id, {})
    steps = _PICKUP_STEPS if dossier.direction == "pickup" else _RETURN_STEPS
    if status in steps:
        step, types = steps[status]
        stop = route.stop_index(job_id, types)
        if stop is None:
            return None
        eta = _stop_eta(session, index, dossier.courier_id, stop, now)
        if (
            step == "at_hub"
            and job.get("destination_site") is not None
            and job.get("destination_site") == job.get("handoff_site")
        ):
            step = "received"
        return {
            "next_step": step,
            "planned": local_iso(eta.planned_start),
            "expected": local_iso(eta.expected_start or eta.planned_start),
            "by": "courier",
        }
    if dossier.direction == "pickup" and status in (Status.AT_HUB, Status.ON_SHUTTLE):
        return _shuttle_step(index, route, dossier, track, status)
    return None


def _shuttle_step(
    index: _PlanIndex, route: _Route, dossier: Dossier, track: DossierTrack | None, status: Status
) -> dict[str, Any] | None:
    assert dossier.job_id is not None
    stop = route.stop_index(dossier.job_id, ("handoff",))
    handoff = route.stops[stop] if stop is not None else None
    planned_run = handoff.shuttle if handoff is not None else None
    since = (track.fold.state.at if track else None) or dossier.status_at
    if since is None:
        return None
    site = track.fold.state.site if track else dossier.place_site
    journey = (handoff.journeys or {}).get(dossier.job_id) if handoff is not None else None
    if journey is not None and journey.runs:
        step = _journey_step(
            index, journey, job_id=dossier.job_id, site=site, since=since, status=status
        )
        if step is not None:
            return step
    day = date_cls.fromisoformat(index.date)
    runs = []
    for run in index.shuttles:
        if run.get("from_site") != site:
            continue
        departs = parse_day_time(day, run.get("departs"))
        arrives = parse_day_time(day, run.get("arrives"))
        if departs is None or arrives is None:
            continue
        margin = timedelta(minutes=float(run.get("handoff_min") or 0))
        runs.append((departs, arrives, margin, run.get("id")))
    runs.sort(key=lambda r: r[0])
    planned = next((r for r in runs if r[3] == planned_run), None)
    if status is Status.ON_SHUTTLE:
        # Scanned onto a run: the one that departs first at or after the scan (minus slack).
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


ON_SHUTTLE_SLACK_S = 30 * 60
"""A dossier scanned onto a shuttle up to this long after the run's departure rode that run."""


def _journey_step(
    index: _PlanIndex,
    journey: PlannedJourney,
    *,
    job_id: str,
    site: str | None,
    since: datetime,
    status: Status,
) -> dict[str, Any] | None:
    """The next run of the plan's journey from the site where the dossier is, and when the
    journey reaches its destination (DESIGN §4).

    A dossier that reached a site of its journey too late for the journey's run from there
    goes on by the earliest journey from there; ``None`` when it is at no site of its journey
    (the plan without journeys' reading then applies).
    """
    runs = index.run_by_id
    here = next((runs[r] for r in journey.runs if r in runs and runs[r].from_site == site), None)
    if here is None:
        return None
    day = date_cls.fromisoformat(index.date)
    at_s = int((since - local_midnight(day)).total_seconds())
    planned = local_iso(journey.reaches)
    if status is Status.ON_SHUTTLE:
        at_s -= ON_SHUTTLE_SLACK_S
        on_time = here.departs_s >= at_s
    else:
        on_time = at_s <= here.cutoff_s
    step = {"next_step": "received", "planned": planned, "by": "shuttle"}
    if on_time:
        return step | {"expected": planned, "run": here.id}
    destination = str(index.jobs.get(job_id, {}).get("destination_site"))
    found = earliest_journey(index.timetable, str(site), at_s, destination)
    if found is None or found.first is None:
        return step | {"expected": None, "run": None}
    return step | {"expected": local_iso(at_seconds(day, found.reaches_s)), "run": found.first.id}
