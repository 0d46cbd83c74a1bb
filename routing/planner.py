"""From a solved problem to the plan of a day, and a whole day planned (by districts if large).

:func:`plan_from_solution` writes the typed plan (:mod:`routing.plan`) from the solver's answer
to a problem built by :func:`routing.dossiers.build_problem`: consecutive site visits become
one stop, each break is written where the courier rests (the place it left, the next place
after riding there, or by the way on a long ride) with its arrival, and the KPI block is
written by one function for every plan, a district-merged day's included. :func:`plan_day` plans a
validated request, district by district when it is large (:func:`districts`);
:func:`plan_request` is its face for request JSON.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from geo.coords import LatLon
from geo.travel import GreatCircleTravel, TravelModel
from routing.clock import at_seconds, hhmm
from routing.dossiers import (
    Built,
    VisitRole,
    _needs_run,
    build_problem,
)
from routing.idle import idle_while_unserved, route_idle_s
from routing.locks import keep_locks_together
from routing.model import Problem, Progress, Route, RouteStep, Solution, SolveParams
from routing.plan import (
    IdleWhileUnserved,
    Kpis,
    Plan,
    PlannedJourney,
    SolverFigures,
    Stop,
    StopKind,
    Unassigned,
    plan_from_json,
)
from routing.plan import Route as PlanRoute
from routing.request import DossierJob, PlanRequest, parse_request
from routing.warm import initial_routes

# Days with more jobs than this are planned district by district (see ``districts``).
DISTRICT_JOBS = 150
# A district busier than this is cut into sectors around its base, each with its own couriers.
SECTOR_JOBS = 60


def _group_steps(problem: Problem, sol_route: Route) -> list[list[RouteStep]]:
    """Consecutive site visits of one kind, site and run, gathered into one stop."""
    groups: list[list[RouteStep]] = []
    for st in sol_route.steps:
        vis = problem.visits[st.visit]
        if groups and vis.group and problem.visits[groups[-1][-1].visit].group == vis.group:
            groups[-1].append(st)
        else:
            groups.append([st])
    return groups


@dataclass
class _RouteWriter:
    """Walks one courier's solved route, writing its stops and breaks in time order."""

    built: Built
    sol_route: Route
    stops: list[Stop] = field(default_factory=list)
    used_breaks: set[int] = field(default_factory=set)
    distance_m: float = 0.0
    missed: int = 0

    def __post_init__(self) -> None:
        k = self.sol_route.vehicle
        prof = self.built.profile_of[k]
        self.sec = self.built.problem.profiles[prof].seconds
        self.met = self.built.metres[prof]
        self.breaks = sorted(self.sol_route.breaks)
        self.prev_loc = self.built.problem.vehicles[k].start
        self.prev_depart = self.sol_route.depart_s

    def at(self, seconds: int) -> datetime:
        """The plan time of ``seconds`` since the plan day's midnight."""
        return at_seconds(self.built.req.day, seconds)

    def place(self, loc: int) -> dict[str, Any]:
        """Where a location is, as a stop says it: its ``site``, else its ``point``."""
        site = self.built.loc_site[loc]
        return {"site": site} if site is not None else {"point": self.built.loc_point[loc]}

    def _break_window(self, start_s: int, duration_s: int) -> tuple[int, int]:
        """The earliest start and latest end of the courier's break taken at ``start_s``."""
        for brk in self.built.problem.vehicles[self.sol_route.vehicle].breaks:
            w = brk.window
            if brk.duration_s == duration_s and w.early_s <= start_s <= w.late_s - duration_s:
                return w.early_s, w.late_s
        return start_s, start_s + duration_s

    def _where_to_rest(
        self, t: int, ride: int, brk: tuple[int, int], after_s: int, next_start: int
    ) -> str:
        """Where the courier takes a break met on the ride: ``here``, ``next`` or ``way``.

        As the solver's times say when they can: a break that begins after the ride is taken at
        the next place, one that leaves time to ride after it is taken here. A break the solver
        put in the middle of the ride is moved whole to one end of it: to the next place when it
        still ends within its window (the arrival there is the same), else here, earlier. When
        neither fits (a long ride across the whole window), the courier rests by the way.
        """
        start, dur = brk
        if start >= t + ride:
            return "next"
        if max(start, t) + dur + ride + after_s <= next_start:
            return "here"
        early, late = self._break_window(start, dur)
        if t + ride + dur <= late:
            return "next"
        if max(t, early) + dur + ride + after_s <= next_start:
            return "here"
        return "way"

    def _on_the_way(self, next_loc: int, share: float) -> LatLon:
        """The point ``share`` of the way from the place just left to ``next_loc``."""
        a, b = self.built.loc_point[self.prev_loc], self.built.loc_point[next_loc]
        return LatLon(
            round(a.lat + (b.lat - a.lat) * share, 6), round(a.lon + (b.lon - a.lon) * share, 6)
        )

    def travel_to(self, next_loc: int, next_start: int) -> int:
        """Ride to ``next_loc`` with the breaks taken before ``next_start``; return the arrival.

        Each break is written where the courier is while it rests: at the place just left, or
        at ``next_loc`` after riding there (it then waits there for the next stop's window),
        or, when the solver's times leave no other way, by the way, part of the ride done.
        """
        ride = int(self.sec[self.prev_loc, next_loc])
        taken = [
            (i, brk)
            for i, brk in enumerate(self.breaks)
            if i not in self.used_breaks and brk[0] + brk[1] <= next_start
        ]
        t, left = self.prev_depart, ride  # left: the ride still to make
        here: dict[str, Any] = self.place(self.prev_loc)
        for n, (i, (bs, dur)) in enumerate(taken):
            self.used_breaks.add(i)
            after_s = sum(d for _, (_, d) in taken[n + 1 :])
            where = self._where_to_rest(t, left, (bs, dur), after_s, next_start) if left else "next"
            start = max(bs, t)
            if where == "next":
                t, left = t + left, 0
                start, here = max(bs, t), self.place(next_loc)
            elif where == "way":
                rode = min(left - 1, max(0, bs - t))
                t, left = t + rode, left - rode
                start, here = max(bs, t), {"point": self._on_the_way(next_loc, 1 - left / ride)}
            elif start + dur + left + after_s > next_start:
                start = max(t, self._break_window(bs, dur)[0])  # here, earlier than planned
            self.stops.append(
                Stop(
                    kind="break",
                    **here,
                    arrive=self.at(t),
                    start=self.at(start),
                    depart=self.at(start + dur),
                )
            )
            t = start + dur
        self.distance_m += float(self.met[self.prev_loc, next_loc])
        return t + left

    def start(self) -> None:
        """The courier's start stop: at its start site, or where it is when re-planning."""
        veh = self.built.problem.vehicles[self.sol_route.vehicle]
        site = self.built.loc_site[veh.start]
        moment = self.at(self.sol_route.depart_s)
        self.stops.append(
            Stop(
                kind="start",
                site=site,
                point=None if site is not None else self.built.loc_point[veh.start],
                arrive=moment,
                depart=moment,
                load=veh.initial_load,
            )
        )

    def visit(self, grp: list[RouteStep]) -> None:
        """One stop of the plan from one visit, or a group of site visits made together."""
        head = grp[-1]
        vis = self.built.problem.visits[head.visit]
        start_s = max(s.start_s for s in grp)
        arrive = self.travel_to(vis.location, start_s)
        depart = start_s + vis.service_s
        times = {
            "arrive": self.at(arrive),
            "start": self.at(start_s),
            "depart": self.at(depart),
            "load": head.load,
        }
        self.stops.append(self._stop_of(grp, times))
        self.prev_loc, self.prev_depart = vis.location, depart

    def _stop_of(self, grp: list[RouteStep], times: dict[str, Any]) -> Stop:
        req, roles = self.built.req, self.built.roles
        role = roles[grp[-1].visit]
        if role.role in ("pickup", "delivery"):
            job = req.jobs[role.job]
            kind: StopKind = "pickup" if role.role == "pickup" else "delivery"
            return Stop(
                kind=kind, job=job.id, dossier=job.dossier, point=job.point, late=role.late, **times
            )
        jobs = tuple(req.jobs[roles[s.visit].job].id for s in grp)
        if role.role == "collect":
            return Stop(kind="collect", site=role.site, jobs=jobs, **times)
        late = any(roles[s.visit].late for s in grp)
        if not _needs_run(req.jobs[role.job]):
            return Stop(kind="handoff", site=role.site, jobs=jobs, late=late, **times)
        if role.missed:
            self.missed += len(grp)
        journeys = {req.jobs[roles[s.visit].job].id: self._journey(roles[s.visit]) for s in grp}
        return Stop(
            kind="handoff",
            site=role.site,
            jobs=jobs,
            shuttle=role.run,
            journeys=journeys,
            late=late,
            **times,
        )

    def _journey(self, role: VisitRole) -> PlannedJourney:
        """The journey a hand-off alternative was valued by (no runs: none today)."""
        reaches = None if role.reaches_s is None else self.at(role.reaches_s)
        return PlannedJourney(runs=role.journey, reaches=reaches)

    def end(self) -> None:
        """The arrival at the end site, after the breaks still to take."""
        veh = self.built.problem.vehicles[self.sol_route.vehicle]
        arrive = max(self.travel_to(veh.end, self.sol_route.end_s), self.sol_route.end_s)
        shift_end = self.built.req.couriers[self.sol_route.vehicle].shift_s[1]
        self.stops.append(
            Stop(
                kind="end",
                site=self.built.loc_site[veh.end],
                late=arrive > shift_end,  # re-planning: dossiers in the bag brought home late
                arrive=self.at(arrive),
            )
        )


def _stops_of_route(built: Built, sol_route: Route) -> tuple[PlanRoute, int]:
    """One route of the plan, and how many of its hand-offs missed every run."""
    writer = _RouteWriter(built, sol_route)
    writer.start()
    for grp in _group_steps(built.problem, sol_route):
        writer.visit(grp)
    writer.end()
    courier = built.req.couriers[sol_route.vehicle]
    route = PlanRoute(
        courier=courier.id,
        mode=courier.mode,
        distance_km=round(writer.distance_m / 1000.0, 3),
        duration_min=round((sol_route.end_s - sol_route.depart_s) / 60.0, 1),
        stops=tuple(writer.stops),
        idle_min=round(route_idle_s(built, sol_route) / 60.0, 1),
    )
    return route, writer.missed


def _kpis(
    *,
    jobs: int,
    served: int,
    routes: Sequence[PlanRoute],
    unassigned: Sequence[Unassigned],
    runs_missed: int,
    solver: SolverFigures,
    idle_warnings: Sequence[IdleWhileUnserved] | None = None,
) -> Kpis:
    """The KPI block of a plan, from its routes and unassigned jobs (one writer for all plans)."""
    by_reason: dict[str, int] = {}
    for u in unassigned:
        by_reason[u.reason] = by_reason.get(u.reason, 0) + 1
    return Kpis(
        jobs=jobs,
        served=served,
        unassigned=len(unassigned),
        unassigned_by_reason=by_reason,
        distance_km=round(sum(r.distance_km for r in routes), 3),
        duration_min=round(sum(r.duration_min or 0.0 for r in routes), 1),
        couriers_used=len(routes),
        runs_caught=sum(
            len(s.jobs) for r in routes for s in r.stops if s.kind == "handoff" and s.shuttle
        ),
        runs_missed=runs_missed,
        reaching_today=_reaching_today(routes),
        idle_min=_idle_total(routes),
        idle_while_unserved=None if idle_warnings is None else tuple(idle_warnings),
        solver=solver,
    )


def _reaching_today(routes: Sequence[PlanRoute]) -> int:
    """Dossiers handed over for a shuttle whose journey reaches the destination today."""
    return sum(
        1
        for r in routes
        for s in r.stops
        if s.kind == "handoff" and s.journeys
        for journey in s.journeys.values()
        if journey.reaches is not None
    )


def _idle_total(routes: Sequence[PlanRoute]) -> float | None:
    """Minutes all routes wait between stops (``None`` when a route does not say: old plans)."""
    if any(r.idle_min is None for r in routes):
        return None
    return round(sum(r.idle_min or 0.0 for r in routes), 1)


def _new_plan(
    req: PlanRequest,
    routes: Sequence[PlanRoute],
    unassigned: Sequence[Unassigned],
    kpis: Kpis,
) -> Plan:
    return Plan(
        plan_id=uuid.uuid4().hex,
        date=req.day,
        status="complete" if not unassigned else "partial",
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        kpis=kpis,
    )


def _dropped_reason(job: DossierJob, solution: Solution) -> tuple[str, str]:
    if not solution.solutions:
        return (
            "no_time",
            f"The search ran out of time ({solution.runtime_s:.1f} s) before it found any "
            "plan for these couriers; plan again with a longer time limit.",
        )
    return (
        "no_time",
        f"No courier could fit it among the other jobs: the couriers' time and capacity "
        f"are used up around its window {hhmm(job.window_s[0])}–{hhmm(job.window_s[1])}.",
    )


def plan_from_solution(built: Built, solution: Solution) -> Plan:
    """Build the typed plan (DESIGN §4) from a core solution.

    Parameters
    ----------
    built
        The problem as built from the request.
    solution
        The solver's answer for ``built.problem``.

    Returns
    -------
    Plan
        Every job of the request in one route or unassigned with a reason; a courier with
        nothing to do has no route.
    """
    req = built.req
    routes: list[PlanRoute] = []
    runs_missed = 0
    served: set[int] = set()
    for r in solution.routes:
        route, missed = _stops_of_route(built, r)
        if len(route.stops) <= 2 and not r.breaks:
            continue
        routes.append(route)
        runs_missed += missed
        served.update(built.roles[st.visit].job for st in r.steps)
    unassigned = dict(built.unassigned)
    core_to_req = {cj: j for j, cj in built.core_job_of.items()}
    for cj in solution.dropped:
        j = core_to_req[cj]
        if j not in served:
            unassigned[j] = _dropped_reason(req.jobs[j], solution)
    unassigned.update(built.extra.get("settled", {}))
    left_out = [
        Unassigned(job=req.jobs[j].id, reason=reason, detail=detail)
        for j, (reason, detail) in sorted(unassigned.items())
    ]
    figures = SolverFigures(
        status=solution.status,
        cost=solution.cost,
        seconds=round(solution.runtime_s, 2),
        solutions=solution.solutions,
    )
    # A re-plan's couriers have spent part of their shift already: their free time is not
    # known from the shift alone, so only a plan of the whole day reports idle couriers.
    whole_day = [(range(len(req.couriers)), range(len(req.jobs)))]
    replanned = "done" in built.extra
    kpis = _kpis(
        jobs=len(req.jobs) - len(built.extra.get("done", ())),
        served=len(served),
        routes=routes,
        unassigned=left_out,
        runs_missed=runs_missed,
        solver=figures,
        idle_warnings=None if replanned else idle_while_unserved(req, routes, left_out, whole_day),
    )
    return _new_plan(req, routes, left_out, kpis)


def _solve_one(
    req: PlanRequest,
    travel: TravelModel | None,
    time_limit_s: float,
    on_progress: Callable[[Progress], None] | None,
    initial: Plan | None = None,
) -> Plan:
    from routing.engines import solve  # noqa: PLC0415 (the engines load when a day is solved)

    built = build_problem(req, travel)
    warm = initial_routes(built, initial) if initial is not None else None
    params = SolveParams(
        time_limit_s=time_limit_s,
        seed=req.seed,
        solution_limit=req.solution_limit,
        initial_routes=None if warm is None else tuple(tuple(r) for r in warm),
    )
    solution = solve(built.problem, params, on_progress=on_progress)
    return plan_from_solution(built, solution)


def districts(req: PlanRequest) -> list[tuple[list[int], list[int]]]:
    """Split a large day into districts: couriers by start site, jobs to the nearest able base.

    A job belongs to the couriers based at its hand-off (pickup) or origin (return) site; when no
    courier is based there, or none of them has its skills, to the nearest base (great circle
    from the job's site) that has an able courier. Jobs naming an unknown site go to the first
    district, whose diagnosis reports them. A district of more than :data:`SECTOR_JOBS` jobs is
    cut into sectors by the bearing of the homes from the base, its couriers shared out among
    them (cluster first, route second).

    Returns
    -------
    list of (courier indices, job indices)
        Districts with at least one job, in the order of their base's first courier.
    """
    if not req.couriers:
        return []  # nothing to split: the single solve reports every job as no_courier
    bases: dict[str, list[int]] = {}
    for k, c in enumerate(req.couriers):
        bases.setdefault(c.start_site, []).append(k)
    order = list(bases)
    groups: dict[str, list[int]] = {b: [] for b in order}
    for j, job in enumerate(req.jobs):
        site = job.handoff_site if job.kind == "pickup" else job.origin_site
        if site is None or site not in req.sites:
            groups[order[0]].append(j)
            continue
        able = [
            b for b in order if any(job.skills <= req.couriers[k].skills for k in bases[b])
        ] or order
        if site in able:
            groups[site].append(j)
            continue
        here = req.sites[site].point
        pts = [here] + [req.sites[b].point for b in able]
        dist = GreatCircleTravel().matrix(pts, "car").metres[0, 1:]
        groups[able[int(np.argmin(dist))]].append(j)
    parts: list[tuple[list[int], list[int]]] = []
    for b in order:
        if groups[b]:
            parts.extend(_sectors(req, bases[b], groups[b], req.sites[b].point))
    return parts


def _sectors(
    req: PlanRequest, couriers: list[int], jobs: list[int], base: LatLon
) -> list[tuple[list[int], list[int]]]:
    """Split a busy district into sectors around its base (sweep), about
    :data:`SECTOR_JOBS` jobs each, sharing out the couriers in proportion."""
    k = min(len(couriers), math.ceil(len(jobs) / SECTOR_JOBS))
    if k <= 1:
        return [(couriers, jobs)]
    angle = sorted(
        jobs,
        key=lambda j: math.atan2(
            req.jobs[j].point.lat - base.lat, req.jobs[j].point.lon - base.lon
        ),
    )
    crew = [couriers[i::k] for i in range(k)]
    out: list[tuple[list[int], list[int]]] = []
    start = 0
    for i, cs in enumerate(crew):
        end = len(angle) if i == k - 1 else start + round(len(angle) * len(cs) / len(couriers))
        out.append((cs, angle[start:end]))
        start = end
    # A job whose skills no courier of its sector has goes to the next sector that has one.
    for i, (cs, js) in enumerate(out):
        for j in list(js):
            need = req.jobs[j].skills
            if need and not any(need <= req.couriers[c].skills for c in cs):
                for step in range(1, k):
                    other = out[(i + step) % k]
                    if any(need <= req.couriers[c].skills for c in other[0]):
                        js.remove(j)
                        other[1].append(j)
                        break
    return [(cs, js) for cs, js in out if js]


def plan_request(
    request: Mapping[str, Any],
    *,
    time_limit_s: float | None = None,
    travel: TravelModel | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    initial_plan: Mapping[str, Any] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Plan a day: validate the request, solve it and return the plan JSON (DESIGN §4).

    The JSON face of :func:`plan_day`, for callers that hold the request as JSON.

    Parameters
    ----------
    request
        The plan request as plain JSON data.
    time_limit_s
        Search time limit in seconds; overrides ``options.time_limit_s`` (default 10 s).
    travel
        Travel model for requests without a ``travel`` matrix; defaults to
        :class:`geo.travel.GreatCircleTravel`.
    on_progress
        Called at each improving solution with elapsed seconds, best cost and solutions found.
    initial_plan
        A plan (JSON) whose routes the search starts from (re-optimising a plan adjusted by
        hand); ignored where the solver refuses them.
    workers
        Processes that solve a large day's districts at once; overrides ``options.workers``
        (default: one per core).

    Returns
    -------
    dict
        The plan: every job is in exactly one route or in ``unassigned`` with a reason.

    Raises
    ------
    RequestError
        If the request is invalid; the message names the field.
    """
    req = parse_request(request, time_limit_s=time_limit_s)
    req = parse_request(request, time_limit_s=time_limit_s)
    if workers is not None:
        req = replace(req, workers=workers)
    initial = None if initial_plan is None else plan_from_json(initial_plan)
    return plan_day(req, travel=travel, on_progress=on_progress, initial=initial).to_json()


def plan_day(
    req: PlanRequest,
    *,
    travel: TravelModel | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    initial: Plan | None = None,
) -> Plan:
    """Plan a day from a validated request (:func:`routing.request.parse_request`).

    Days of more than :data:`DISTRICT_JOBS` jobs are planned district by district (see
    :func:`districts`), the districts at once in worker processes (``req.workers``, else one
    per core), then couriers with free time are lent to districts whose jobs wait
    (:func:`routing.parallel.plan_districts`): a province-wide day gets a first plan in
    seconds rather than minutes, and every core searches.

    Parameters
    ----------
    req
        The request, with its search time limit (``req.time_limit_s``, seconds).
    travel
        Travel model for requests without a ``travel`` matrix; defaults to
        :class:`geo.travel.GreatCircleTravel`.
    on_progress
        Called at each improving solution with elapsed seconds, best cost and solutions found.
    initial
        A plan whose routes each search starts from (a warm start), if given.

    Returns
    -------
    Plan
        Every job is in exactly one route or in ``unassigned`` with a reason.
    """
    parts = keep_locks_together(req, districts(req)) if len(req.jobs) > DISTRICT_JOBS else []
    if len(parts) <= 1:
        return _solve_one(req, travel, req.time_limit_s, on_progress, initial)
    from routing.parallel import plan_districts  # noqa: PLC0415 (it imports this module)

    return plan_districts(
        req, parts, travel=travel, on_progress=on_progress, began=time.monotonic(), initial=initial
    )


def _solver_of(plan: Plan) -> SolverFigures:
    assert plan.kpis is not None and plan.kpis.solver is not None, "the optimizer writes both"
    return plan.kpis.solver


def _kpi_total(plans: Sequence[Plan], name: str) -> int:
    return sum(getattr(p.kpis, name) or 0 for p in plans)


def _merge(req: PlanRequest, plans: Sequence[Plan], seconds: float) -> Plan:
    """One plan from the plans of the districts of a day."""
    order = {j.id: i for i, j in enumerate(req.jobs)}
    routes = [r for p in plans for r in p.routes]
    unassigned = sorted((u for p in plans for u in p.unassigned), key=lambda u: order[u.job])
    figures = SolverFigures(
        status="solved",
        cost=sum(_solver_of(p).cost for p in plans),
        seconds=round(seconds, 2),
        solutions=sum(_solver_of(p).solutions for p in plans),
        districts=len(plans),
    )
    kpis = _kpis(
        jobs=_kpi_total(plans, "jobs"),
        served=_kpi_total(plans, "served"),
        routes=routes,
        unassigned=unassigned,
        runs_missed=_kpi_total(plans, "runs_missed"),
        solver=figures,
        idle_warnings=_warnings_of(plans),
    )
    return _new_plan(req, routes, unassigned, kpis)


def _warnings_of(plans: Sequence[Plan]) -> list[IdleWhileUnserved] | None:
    """The district plans' idle couriers, together (``None`` when a plan does not say)."""
    found = [p.kpis.idle_while_unserved if p.kpis else None for p in plans]
    if any(w is None for w in found):
        return None
    return [w for ws in found for w in ws or ()]


__all__ = ["districts", "plan_day", "plan_from_solution", "plan_request"]
