"""Re-time routes a dispatcher changed by hand, and say which promises the change breaks.

A dispatcher moves a job to another courier or to another place in a route
(:func:`move_job`), or hands over whole new stop sequences (:func:`retime`). The routes are then
ridden as given, with no search: each stop's ``arrive`` is the previous stop's ``depart`` plus
the travel (and any break taken on the way), ``start = max(arrive, when the window or the site
opens, when the result is ready)`` and ``depart = start + service``; loads, distances and the
KPIs follow. A move that makes a citizen wait past the window, a courier work past the shift or
a hand-off miss its run is kept as asked: :func:`routing.checker.check_plan` then names every
promise the adjusted plan breaks, in words, and those are the answer's ``broken``.

A moved pickup needs its hand-off at its ``handoff_site`` after it on the same route: it joins
the next hand-off stop at that site bound for the same destination, else a new hand-off is added
before the end (catching the earliest run still open when it is made). A moved return needs its
collect at its ``origin_site`` before it: it joins the last collect at that site before it, else
a new collect is added just before the delivery.

Times use the optimizer's travel (:mod:`routing.dossiers`): the request's own matrix, or the
travel model per courier mode, legs rounded up to the second.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from geo.travel import GreatCircleTravel, TravelModel
from routing.checker import check_plan
from routing.clock import at_seconds, local_midnight
from routing.dossiers import _integer_travel, _needs_run, _places, _site_window, _travel
from routing.journeys import Journey, journeys_by_first_run
from routing.plan import (
    JOB_STOPS,
    Change,
    Kpis,
    Plan,
    PlannedJourney,
    Route,
    SolverFigures,
    Stop,
    StopKind,
)
from routing.request import Courier, DossierJob, PlanRequest, parse_request


class AdjustError(ValueError):
    """A hand adjustment that cannot be made; ``field`` names what is wrong (``job``, …)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class UnknownJobError(AdjustError):
    """The job named is not in the plan's request."""


class JobDoneError(AdjustError):
    """The job is already (partly) done: its stops are history and cannot move."""


@dataclass(frozen=True, slots=True)
class Broken:
    """A promise the adjusted plan breaks: the checker's code (``rule``) and its sentence."""

    rule: str
    words: str
    job: str | None = None
    courier: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """Return ``{"job", "rule", "words", "courier"}``."""
        return {"job": self.job, "rule": self.rule, "words": self.words, "courier": self.courier}


@dataclass(frozen=True, slots=True)
class Adjusted:
    """An adjusted plan (a new ``plan_id``), the promises it breaks, and the request it answers
    (the old one, with a moved job's lock following it)."""

    plan: Plan
    broken: tuple[Broken, ...]
    request: Mapping[str, Any]

    def to_json(self) -> dict[str, object]:
        """The plan's JSON (DESIGN §4) with ``broken`` added."""
        return {**self.plan.to_json(), "broken": [b.to_json() for b in self.broken]}


class _Legs:
    """Travel between the places of a request, in the optimizer's integers (s, m)."""

    def __init__(self, req: PlanRequest, travel: TravelModel | None, plan: Plan) -> None:
        # A re-planned route starts where its courier was: a point after the sites and homes.
        starts = [
            r.stops[0].point
            for r in plan.routes
            if r.stops and r.stops[0].site is None and r.stops[0].point is not None
        ]
        if starts and req.travel is not None:
            msg = "a route starting from a courier's position cannot be timed by the matrix."
            raise AdjustError("travel", msg)
        places = _places(req, starts)
        seconds, metres = _travel(req, places.points, places.ids, travel or GreatCircleTravel())
        self.sec, met = _integer_travel(seconds, metres)
        self.met = {p: np.asarray(m) for p, m in met.items()}
        self.site = places.site_index
        self.home = {job.id: places.job_loc[j] for j, job in enumerate(req.jobs)}
        first = len(places.points) - len(starts)
        self.point = {(p.lat, p.lon): first + i for i, p in enumerate(starts)}
        self.shared = req.travel is not None

    def place(self, stop: Stop) -> int:
        """The location index of a stop at a site, a job's home or a re-plan's start point."""
        if stop.site is not None:
            return self.site[stop.site]
        if stop.job is not None:
            return self.home[stop.job]
        if stop.point is not None and (stop.point.lat, stop.point.lon) in self.point:
            return self.point[(stop.point.lat, stop.point.lon)]
        msg = f"a {stop.kind} stop away from any site or home cannot be re-timed."
        raise AdjustError("routes", msg)

    def leg(self, mode: str, a: int, b: int) -> tuple[int, int]:
        """Seconds and metres from location ``a`` to ``b`` for a courier of ``mode``."""
        p = "request" if self.shared else mode
        return int(self.sec[p][a, b]), int(self.met[p][a, b])


@dataclass
class _Ride:
    """Rides one courier's stops in order, writing their times, loads and the distance."""

    req: PlanRequest
    legs: _Legs
    courier: Courier
    jobs: Mapping[str, DossierJob]
    out: list[Stop] = dataclasses.field(default_factory=list)
    metres: int = 0

    def at(self, seconds: int) -> datetime:
        return at_seconds(self.req.day, seconds)

    def secs(self, moment: datetime | None) -> int:
        assert moment is not None
        return round((moment - local_midnight(self.req.day)).total_seconds())

    def opens(self, stop: Stop) -> int:
        """When service may begin at a stop: its window, the site's hours, results ready."""
        if stop.kind in JOB_STOPS:
            assert stop.job is not None
            return self.jobs[stop.job].window_s[0]
        assert stop.site is not None
        ready = [self.jobs[j].ready_s for j in stop.jobs] if stop.kind == "collect" else []
        return max([_site_window(self.req, stop.site)[0], *ready])

    def service(self, stop: Stop) -> int:
        if stop.kind in JOB_STOPS:
            assert stop.job is not None
            return self.jobs[stop.job].service_s
        return self.req.site_service_s

    def load_change(self, stop: Stop) -> int:
        sign = {"pickup": 1, "collect": 1, "handoff": -1, "delivery": -1}.get(stop.kind, 0)
        return sign * sum(self.jobs[j].size for j in stop.job_ids)

    def depart_from_start(self, stops: Sequence[Stop]) -> int:
        """Leave as late as the first service allows, never before the shift begins."""
        first = stops[0]
        if first.site is None:  # a re-planned route starting where the courier was
            return self.secs(first.depart)
        shift0 = self.courier.shift_s[0]
        nxt = next((s for s in stops[1:] if s.kind not in ("break", "end")), None)
        if nxt is None:
            return shift0
        ride, _ = self.legs.leg(self.courier.mode, self.legs.place(first), self.legs.place(nxt))
        return max(shift0, self.opens(nxt) - ride)

    def ride(self, stops: Sequence[Stop]) -> None:
        """Write every stop's times and load, from the start to the end."""
        first = stops[0]
        clock, load = self.depart_from_start(stops), first.load or 0
        self.out.append(replace(first, arrive=self.at(clock), depart=self.at(clock)))
        here = self.legs.place(first)
        rules = list(self.courier.breaks)
        for stop in stops[1:]:
            if stop.kind == "break":
                rule = rules.pop(0) if rules else None
                took = self.secs(stop.depart) - self.secs(stop.start)
                reached, begin = clock, max(clock, rule.earliest_s) if rule else clock
                clock = begin + (rule.duration_s if rule else took)
                self.out.append(self.rest_here(stop, reached, begin, clock, load))
                continue
            there = self.legs.place(stop)
            ride_s, ride_m = self.legs.leg(self.courier.mode, here, there)
            self.metres += ride_m
            arrive = clock + ride_s
            if stop.kind == "end":
                self.out.append(replace(stop, arrive=self.at(arrive)))
                break
            begin = max(arrive, self.opens(stop))
            clock, here = begin + self.service(stop), there
            load += self.load_change(stop)
            times = {"arrive": self.at(arrive), "start": self.at(begin), "depart": self.at(clock)}
            self.out.append(replace(stop, load=load, **times))  # type: ignore[arg-type]

    def rest_here(self, stop: Stop, reached: int, begin: int, end: int, load: int) -> Stop:
        """The break taken where the courier is (the place just left), then the ride on."""
        prev = self.out[-1]
        return replace(
            stop,
            site=prev.site,
            point=None if prev.site is not None else prev.point,
            arrive=self.at(reached),
            start=self.at(begin),
            depart=self.at(end),
            load=load,
        )

    def route(self, old: Route | None) -> Route:
        leave, back = self.secs(self.out[0].depart), self.secs(self.out[-1].arrive)
        return Route(
            courier=self.courier.id,
            mode=self.courier.mode,
            stops=tuple(self.out),
            distance_km=round(self.metres / 1000.0, 3),
            duration_min=round((back - leave) / 60.0, 1),
            done=old.done if old is not None else None,
            extra=old.extra if old is not None else {},
        )


def _with_runs(req: PlanRequest, jobs: Mapping[str, DossierJob], route: Route) -> Route:
    """Give each hand-off its journeys: a new one (no run yet) the earliest journey it still
    catches, and a job that joined a hand-off the earliest journey beginning with its run."""
    midnight = local_midnight(req.day)
    stops = []
    for stop in route.stops:
        if stop.kind == "handoff" and stop.start is not None:
            start = round((stop.start - midnight).total_seconds())
            stops.append(_journeys_of(req, [jobs[j] for j in stop.jobs], stop, start))
        else:
            stops.append(stop)
    return replace(route, stops=tuple(stops))


def _journeys_of(req: PlanRequest, handed: Sequence[DossierJob], stop: Stop, start: int) -> Stop:
    heads = [j for j in handed if _needs_run(j)]
    if not heads:
        return stop
    known = dict(stop.journeys or {})
    shuttle = stop.shuttle
    if shuttle is None and len(heads) == len(handed):
        if len({j.destination_site for j in heads}) > 1:
            return stop
        first = _catchable(req, heads[0], start)
        if first is None:
            return stop
        shuttle = first.runs[0].id
    for job in heads:
        if job.id not in known and shuttle is not None:
            found = [jr for jr in _catchable_all(req, job, start) if jr.runs[0].id == shuttle]
            if found:
                known[job.id] = _planned(req, found[0])
    return replace(stop, shuttle=shuttle, journeys=known or None)


def _catchable_all(req: PlanRequest, job: DossierJob, start: int) -> list[Journey]:
    assert job.handoff_site is not None and job.destination_site is not None
    return journeys_by_first_run(
        req.shuttles, job.handoff_site, job.destination_site, after_s=start
    )


def _catchable(req: PlanRequest, job: DossierJob, start: int) -> Journey | None:
    """The journey reaching the destination soonest among those a hand-off at ``start`` catches."""
    return min(_catchable_all(req, job, start), key=lambda jr: jr.reaches_s, default=None)


def _planned(req: PlanRequest, journey: Journey) -> PlannedJourney:
    return PlannedJourney(
        runs=tuple(r.id for r in journey.runs), reaches=at_seconds(req.day, journey.reaches_s)
    )


def _kpis(
    before: Kpis | None, routes: Sequence[Route], plan: Plan, jobs: Mapping[str, DossierJob]
) -> Kpis:
    """The KPI block of an adjusted plan, counted from its routes as the optimizer counts."""
    served = {j for r in routes for s in r.stops for j in s.job_ids}
    by_reason: dict[str, int] = {}
    for u in plan.unassigned:
        by_reason[u.reason] = by_reason.get(u.reason, 0) + 1
    handoffs = [s for r in routes for s in r.stops if s.kind == "handoff"]
    return Kpis(
        jobs=before.jobs if before is not None and before.jobs is not None else len(jobs),
        served=len(served),
        unassigned=len(plan.unassigned),
        unassigned_by_reason=by_reason,
        distance_km=round(sum(r.distance_km for r in routes), 3),
        duration_min=round(sum(r.duration_min or 0.0 for r in routes), 1),
        couriers_used=sum(1 for r in routes if r.stops),
        runs_caught=sum(len(s.jobs) for s in handoffs if s.shuttle),
        runs_missed=sum(
            1 for s in handoffs if not s.shuttle for j in s.jobs if _needs_run(jobs[j])
        ),
        solver=SolverFigures(status="adjusted", cost=0, seconds=0.0, solutions=0),
    )


def retime(
    request: Mapping[str, Any],
    plan: Plan,
    sequences: Mapping[str, Sequence[Stop]],
    *,
    travel: TravelModel | None = None,
    changes: Sequence[Change] = (),
    unassigned_jobs: Sequence[str] = (),
) -> Adjusted:
    """Ride new stop sequences as given and check the plan they make.

    Parameters
    ----------
    request
        The plan's request (DESIGN §4 JSON).
    plan
        The plan adjusted.
    sequences
        Courier id → its new stops, ``start`` to ``end`` (times are rewritten; a break keeps its
        place in the order and is taken as early as its window allows).
    travel
        The travel model for requests without a matrix (great circle by default).
    changes
        What the adjustment changed, written in the plan's ``changes``.
    unassigned_jobs
        Jobs the adjustment takes out of ``unassigned`` (now on a route).

    Returns
    -------
    Adjusted
        A new plan (new ``plan_id``, ``previous_plan_id`` the old one) and its broken promises.

    Raises
    ------
    AdjustError
        If a courier is unknown or a route cannot be ridden (the message names the field).
    routing.request.RequestError
        If the request itself is invalid.
    """
    req = parse_request(request)
    legs = _Legs(req, travel, plan)
    jobs = {j.id: j for j in req.jobs}
    couriers = {c.id: c for c in req.couriers}
    routes = {r.courier: r for r in plan.routes}
    for courier_id, stops in sequences.items():
        if courier_id not in couriers:
            raise AdjustError("courier", f"{courier_id!r} is not a courier of the plan's request.")
        ride = _Ride(req, legs, couriers[courier_id], jobs)
        ride.ride(stops)
        routes[courier_id] = _with_runs(req, jobs, ride.route(routes.get(courier_id)))
    order = [c.id for c in req.couriers]
    kept = [routes[c] for c in order if c in routes and (c not in sequences or _works(routes[c]))]
    taken = set(unassigned_jobs)
    left = tuple(u for u in plan.unassigned if u.job not in taken)
    new = replace(
        plan,
        plan_id=_new_id(),
        status="complete" if not left else "partial",
        routes=tuple(kept),
        unassigned=left,
        changes=tuple(changes),
        previous_plan_id=plan.plan_id,
        extra={k: v for k, v in plan.extra.items() if k != "broken"},
    )
    new = replace(new, kpis=_kpis(plan.kpis, kept, new, jobs))
    found = check_plan(request, new.to_json(), travel=travel)
    broken = tuple(Broken(v.code, v.detail, v.job, v.courier) for v in found)
    return Adjusted(new, broken, request)


def _works(route: Route) -> bool:
    """A route with something to do (or done stops to keep)."""
    return bool(route.done) or any(s.kind not in ("start", "end") for s in route.stops)


def _new_id() -> str:
    return uuid.uuid4().hex


def _without(stops: Sequence[Stop], job: str) -> list[Stop]:
    """A route's stops without ``job``: its home stop gone, and its site stops' share of it."""
    out = []
    for stop in stops:
        if stop.job == job:
            continue
        if job in stop.jobs:
            rest = tuple(j for j in stop.jobs if j != job)
            if not rest:
                continue
            extra = {k: v for k, v in stop.extra.items() if k != "journeys"}
            journeys = stop.extra.get("journeys")
            if isinstance(journeys, Mapping):
                extra["journeys"] = {k: v for k, v in journeys.items() if k != job}
            out.append(replace(stop, jobs=rest, extra=extra))
            continue
        out.append(stop)
    return out


def _empty_route(courier: Courier) -> list[Stop]:
    start = Stop(kind="start", site=courier.start_site, load=0)
    return [start, Stop(kind="end", site=courier.end_site)]


def _home_index(stops: Sequence[Stop], position: int | None, courier: str) -> int:
    """Index in ``stops`` before which the job's home stop goes (``position``: among job stops)."""
    homes = [i for i, s in enumerate(stops) if s.kind in JOB_STOPS]
    if position is None:
        position = len(homes)
    if not 0 <= position <= len(homes):
        msg = f"courier {courier} has {len(homes)} job stops; the position must be 0–{len(homes)}."
        raise AdjustError("position", msg)
    if position < len(homes):
        return homes[position]
    return (homes[-1] + 1) if homes else 1


def _fits_handoff(req: PlanRequest, stop: Stop, job: DossierJob) -> bool:
    """Whether a pickup may join a hand-off stop: same site, bound for the same destination."""
    if stop.kind != "handoff" or stop.site != job.handoff_site:
        return False
    if not _needs_run(job):
        return stop.shuttle is None
    runs = {r.id: r for r in req.shuttles}
    run = runs.get(stop.shuttle) if stop.shuttle else None
    return run is not None and run.to_site == job.destination_site


def insert_job(
    req: PlanRequest, stops: Sequence[Stop], job: DossierJob, position: int | None, courier: str
) -> list[Stop]:
    """A route's stops with ``job`` added at ``position`` (index among its job stops).

    The home stop goes before the ``position``-th job stop (after the last when ``position``
    is their count); a pickup joins the next fitting hand-off after it or gets a new one before
    the end, a return joins the last collect at its origin before it or gets one just before.
    """
    out = list(stops)
    at = _home_index(out, position, courier)
    kind: StopKind = "pickup" if job.kind == "pickup" else "delivery"
    out.insert(at, Stop(kind=kind, job=job.id, dossier=job.dossier, point=job.point))
    if job.kind == "pickup":
        later = [i for i in range(at + 1, len(out)) if _fits_handoff(req, out[i], job)]
        if later:
            out[later[0]] = replace(out[later[0]], jobs=(*out[later[0]].jobs, job.id))
        else:
            out.insert(len(out) - 1, Stop(kind="handoff", site=job.handoff_site, jobs=(job.id,)))
        return out
    earlier = [i for i in range(at) if out[i].kind == "collect" and out[i].site == job.origin_site]
    if earlier:
        out[earlier[-1]] = replace(out[earlier[-1]], jobs=(*out[earlier[-1]].jobs, job.id))
    else:
        out.insert(at, Stop(kind="collect", site=job.origin_site, jobs=(job.id,)))
    return out


def _score(ride: _Ride) -> tuple[int, int, int]:
    """How bad a ridden route is: seconds past windows, site hours and the shift, then its
    duration and metres (the cheapest insertion has the smallest)."""
    late = 0
    midnight = local_midnight(ride.req.day)

    def secs(moment: datetime | None) -> int:
        return 0 if moment is None else round((moment - midnight).total_seconds())

    for stop in ride.out:
        if stop.kind in JOB_STOPS and stop.job is not None:
            late += max(0, secs(stop.start) - ride.jobs[stop.job].window_s[1])
        elif stop.kind in ("handoff", "collect") and stop.site is not None:
            late += max(0, secs(stop.start) - _site_window(ride.req, stop.site)[1])
    late += max(0, secs(ride.out[-1].arrive) - ride.courier.shift_s[1])
    span = secs(ride.out[-1].arrive) - secs(ride.out[0].depart)
    return late, span, ride.metres


def _cheapest(
    req: PlanRequest, legs: _Legs, stops: Sequence[Stop], job: DossierJob, courier: Courier
) -> list[Stop]:
    """The route with ``job`` inserted where it costs least (:func:`_score`)."""
    jobs = {j.id: j for j in req.jobs}
    homes = sum(1 for s in stops if s.kind in JOB_STOPS)
    best: tuple[tuple[int, int, int], list[Stop]] | None = None
    for position in range(homes + 1):
        candidate = insert_job(req, stops, job, position, courier.id)
        ride = _Ride(req, legs, courier, jobs)
        ride.ride(candidate)
        score = _score(ride)
        if best is None or score < best[0]:
            best = (score, candidate)
    assert best is not None
    return best[1]


def _relocked(request: Mapping[str, Any], job: str, courier: str) -> Mapping[str, Any]:
    """The request with ``job``'s lock, if it has one, moved to ``courier``."""
    jobs = request.get("jobs")
    if not isinstance(jobs, list) or not any(
        isinstance(j, Mapping) and j.get("id") == job and j.get("courier") for j in jobs
    ):
        return request
    new_jobs = [
        {**j, "courier": courier} if isinstance(j, Mapping) and j.get("id") == job else j
        for j in jobs
    ]
    return {**request, "jobs": new_jobs}


def move_job(
    request: Mapping[str, Any],
    plan: Plan,
    job_id: str,
    courier_id: str,
    position: int | None = None,
    *,
    travel: TravelModel | None = None,
) -> Adjusted:
    """Move a job to a courier (another, or the same at another place) and re-time the routes.

    Parameters
    ----------
    request, plan
        The plan's request (JSON) and the plan.
    job_id
        The job moved: on a route or unassigned.
    courier_id
        The courier who makes it after the move.
    position
        Index among the courier's job stops (pickups and deliveries, counted without the moved
        job) before which its home stop goes; ``None``: the cheapest place (fewest seconds past
        windows and shift, then the shortest route).
    travel
        The travel model for requests without a matrix (great circle by default).

    Returns
    -------
    Adjusted
        The new plan, its broken promises, and the request (a locked job's lock follows it).

    Raises
    ------
    UnknownJobError
        If the job is not in the request.
    JobDoneError
        If the job has done stops on a re-planned route.
    AdjustError
        If the courier is unknown or the position out of range.
    """
    req = parse_request(request)
    job = next((j for j in req.jobs if j.id == job_id), None)
    if job is None:
        raise UnknownJobError("job", f"{job_id!r} is not a job of the plan's request.")
    courier = next((c for c in req.couriers if c.id == courier_id), None)
    if courier is None:
        raise AdjustError("courier", f"{courier_id!r} is not a courier of the plan's request.")
    if any(job_id in s.job_ids for r in plan.routes for s in r.done or ()):
        raise JobDoneError("job", f"{job_id} is already under way; its done stops cannot move.")
    before = plan.job_couriers().get(job_id)
    sequences: dict[str, list[Stop]] = {}
    if before is not None:
        old = plan.route_of(before)
        assert old is not None
        sequences[before] = _without(old.stops, job_id)
    route = plan.route_of(courier_id)
    if route is not None and not route.stops:
        msg = f"{courier_id}'s day is all done; re-plan to give it more work."
        raise AdjustError("courier", msg)
    stops = sequences.get(courier_id) or (list(route.stops) if route else _empty_route(courier))
    if position is None:
        sequences[courier_id] = _cheapest(req, _Legs(req, travel, plan), stops, job, courier)
    else:
        sequences[courier_id] = insert_job(req, stops, job, position, courier_id)
    change = Change(
        job=job_id, before=before, after=courier_id, change="moved" if before else "assigned"
    )
    return retime(
        _relocked(request, job_id, courier_id),
        plan,
        sequences,
        travel=travel,
        changes=[change],
        unassigned_jobs=[job_id],
    )


def lock_jobs(
    request: Mapping[str, Any],
    plan: Plan,
    job_ids: Sequence[str],
    courier_id: str | None = None,
    *,
    unlock: bool = False,
    travel: TravelModel | None = None,
) -> Adjusted:
    """Lock jobs to a courier (or unlock them) in the plan's request; the routes stay as they are.

    Parameters
    ----------
    request, plan
        The plan's request (JSON) and the plan.
    job_ids
        The jobs to lock or unlock.
    courier_id
        The courier to lock them to; ``None`` locks each to the courier whose route has it.
    unlock
        Remove the jobs' locks instead.
    travel
        The travel model for the check (great circle by default).

    Returns
    -------
    Adjusted
        A copy of the plan under a new id, the promises it breaks (a job locked to a courier
        whose route does not have it breaks its lock until it is moved or re-optimised), and
        the request with the locks.

    Raises
    ------
    UnknownJobError
        If a job is not in the request.
    AdjustError
        If the courier is unknown, or a job to lock to its current courier is on no route.
    """
    req = parse_request(request)
    known = {j.id for j in req.jobs}
    missing = [j for j in job_ids if j not in known]
    if missing:
        raise UnknownJobError("jobs", f"{', '.join(missing[:5])} not among the plan's jobs.")
    if courier_id is not None and courier_id not in {c.id for c in req.couriers}:
        raise AdjustError("courier", f"{courier_id!r} is not a courier of the plan's request.")
    current = plan.job_couriers()
    locks: dict[str, str | None] = {}
    for job in job_ids:
        if unlock:
            locks[job] = None
        elif courier_id is not None or job in current:
            locks[job] = courier_id or current[job]
        else:
            msg = f"{job} is on no route; name the courier to lock it to."
            raise AdjustError("courier", msg)
    jobs = [
        _with_lock(j, locks[j["id"]]) if isinstance(j, Mapping) and j.get("id") in locks else j
        for j in request.get("jobs") or []
    ]
    new_request = {**request, "jobs": jobs}
    new = replace(plan, plan_id=_new_id(), previous_plan_id=plan.plan_id, changes=())
    new = replace(new, extra={k: v for k, v in plan.extra.items() if k != "broken"})
    found = check_plan(new_request, new.to_json(), travel=travel)
    return Adjusted(
        new, tuple(Broken(v.code, v.detail, v.job, v.courier) for v in found), new_request
    )


def _with_lock(job: Mapping[str, Any], courier: str | None) -> dict[str, Any]:
    out = {k: v for k, v in job.items() if k != "courier"}
    return out if courier is None else {**out, "courier": courier}


__all__ = [
    "AdjustError",
    "Adjusted",
    "Broken",
    "JobDoneError",
    "UnknownJobError",
    "insert_job",
    "lock_jobs",
    "move_job",
    "retime",
]
