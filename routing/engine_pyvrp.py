"""PyVRP as a second engine, for the core problems it expresses exactly.

PyVRP (iterated local search, Wouda, Lan & Kool 2024) is far stronger than OR-Tools' local
search on plain time-window problems, but it has no breaks, no alternative visits, no shared
service along a run of visits, no visit costs and no per-visit vehicle restrictions. So
:func:`can_solve` accepts only problems without any of those (one travel profile, objective on
distance only, every job one visit or one pickup-then-delivery pair): in practice the Solomon,
Gehring–Homberger and Li & Lim benchmarks. Every dossier day has hand-offs, breaks and runs,
and is solved by OR-Tools (:mod:`routing.solver`), which calls this module when it can.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pyvrp import Model
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from routing.model import Problem, Progress, Route, RouteStep, Solution, SolveParams


def can_solve(problem: Problem) -> bool:  # noqa: PLR0911 - one rule per return
    """Return whether PyVRP can solve ``problem`` with exactly the same meaning."""
    if problem.early_service or len(problem.profiles) != 1 or problem.weights.per_second:
        return False
    if any(v.breaks or v.initial_load for v in problem.vehicles):
        return False
    for vis in problem.visits:
        if vis.group or vis.cost or vis.skills or vis.vehicles is not None:
            return False
        if vis.preferred_vehicle is not None:
            return False
    for job in problem.jobs:
        if any(len(step) != 1 for step in job.steps):
            return False
        if len(job.steps) == 2:
            p, d = problem.visits[job.steps[0][0]], problem.visits[job.steps[1][0]]
            if p.demand < 0 or d.demand != -p.demand:
                return False
    return True


def solve(  # noqa: PLR0912, PLR0915 - the model is written out in one pass
    problem: Problem,
    params: SolveParams,
    *,
    on_progress: Callable[[Progress], None] | None = None,
) -> Solution | None:
    """Solve with PyVRP; return None when it finds no feasible solution in the time limit.

    Parameters
    ----------
    problem
        A problem for which :func:`can_solve` is true.
    params
        ``time_limit_s``, ``solution_limit`` (as iterations) and ``seed`` are used.
    on_progress
        Called once, with the final cost (PyVRP reports no intermediate solutions here).

    Returns
    -------
    Solution or None
        The routes, with service start times from PyVRP's schedule.
    """
    began = time.monotonic()
    prof = next(iter(problem.profiles.values()))
    m = Model()
    locs = [m.add_location(0, 0) for _ in range(problem.num_locations)]
    depots = {}
    for veh in problem.vehicles:
        for loc in (veh.start, veh.end):
            if loc not in depots:
                early = min(v.shift.early_s for v in problem.vehicles)
                late = max(v.shift.late_s for v in problem.vehicles)
                depots[loc] = m.add_depot(locs[loc], tw_early=early, tw_late=late)
    types: dict[tuple[int, int, int, int, int, int], list[int]] = {}
    for k, veh in enumerate(problem.vehicles):
        key = (
            veh.start,
            veh.end,
            veh.capacity,
            veh.shift.early_s,
            veh.shift.late_s,
            veh.fixed_cost,
        )
        types.setdefault(key, []).append(k)
    type_vehicles: list[list[int]] = []
    for (start, end, cap, early, late, fixed), ks in types.items():
        m.add_vehicle_type(
            num_available=len(ks),
            capacity=cap,
            start_depot=depots[start],
            end_depot=depots[end],
            fixed_cost=fixed,
            tw_early=early,
            tw_late=late,
            unit_distance_cost=problem.weights.per_metre,
            unit_duration_cost=0,
        )
        type_vehicles.append(ks)
    client_visit: list[int] = []
    shipment_visits: list[tuple[int, int]] = []
    for job in problem.jobs:
        required = job.penalty is None
        prize = 0 if job.penalty is None else job.penalty
        if len(job.steps) == 1:
            v = job.steps[0][0]
            vis = problem.visits[v]
            m.add_client(
                locs[vis.location],
                delivery=max(vis.demand, 0),
                pickup=max(-vis.demand, 0),
                service_duration=vis.service_s,
                tw_early=vis.window.early_s,
                tw_late=vis.window.late_s,
                prize=prize,
                required=required,
            )
            client_visit.append(v)
        else:
            pv, dv = job.steps[0][0], job.steps[1][0]
            p, d = problem.visits[pv], problem.visits[dv]
            m.add_shipment(
                locs[p.location],
                locs[d.location],
                pickup_tw_early=p.window.early_s,
                pickup_tw_late=p.window.late_s,
                pickup_service_duration=p.service_s,
                delivery_tw_early=d.window.early_s,
                delivery_tw_late=d.window.late_s,
                delivery_service_duration=d.service_s,
                amount=p.demand,
                prize=prize,
                required=required,
            )
            shipment_visits.append((pv, dv))
    sec, met = prof.seconds, prof.metres
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            m.add_edge(a, b, distance=int(met[i, j]), duration=int(sec[i, j]))
    left = max(0.1, params.time_limit_s - (time.monotonic() - began))
    stop: StoppingCriterion = MaxRuntime(left)
    if params.solution_limit is not None:
        stop = MultipleCriteria([stop, MaxIterations(params.solution_limit)])
    result = m.solve(stop=stop, seed=params.seed, display=False)
    if not result.is_feasible():
        return None
    runtime = time.monotonic() - began
    if on_progress is not None:
        on_progress(Progress(runtime, int(result.cost()), 1))

    routes: list[Route] = []
    used = [0] * len(type_vehicles)
    served: set[int] = set()
    for rt in result.best.routes():
        t = rt.vehicle_type()
        k = type_vehicles[t][used[t]]
        used[t] += 1
        load = 0
        steps: list[RouteStep] = []
        for sa in rt.schedule():
            if sa.is_depot():
                continue
            if sa.is_client():
                v = client_visit[sa.idx]
            else:
                pv, dv = shipment_visits[sa.idx]
                v = pv if sa.is_pickup() else dv
            load += problem.visits[v].demand
            steps.append(RouteStep(v, int(sa.start_time), load))
            served.add(v)
        routes.append(Route(k, int(rt.start_time()), tuple(steps), (), int(rt.end_time())))
    dropped = tuple(
        j for j, job in enumerate(problem.jobs) if not any(v in served for v in job.visits)
    )
    routes.sort(key=lambda r: r.vehicle)
    return Solution(tuple(routes), dropped, int(result.cost()), runtime, 1, "solved")
