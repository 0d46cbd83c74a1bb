"""PyVRP as a second engine, for the core problems it expresses exactly.

PyVRP (iterated local search, Wouda, Lan & Kool 2024) is far stronger than OR-Tools' local
search on plain time-window problems, but it has no breaks, no alternative visits, no shared
service along a run of visits, no visit costs and no per-visit vehicle restrictions. So
:func:`can_solve` accepts only problems without any of those (one travel profile, objective on
distance only, every job one visit or one pickup-then-delivery pair): in practice the Solomon,
Gehring–Homberger and Li & Lim benchmarks. Every dossier day has hand-offs, breaks and runs,
and is solved by OR-Tools (:mod:`routing.solver`); :mod:`routing.engines` chooses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pyvrp import Depot, Location, Model, Result
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from routing.model import Job, Problem, Progress, Route, RouteStep, Solution, SolveParams, Visit


def can_solve(problem: Problem) -> bool:
    """Return whether PyVRP can solve ``problem`` with exactly the same meaning."""
    return (
        _plain_objective(problem)
        and not any(v.breaks or v.initial_load for v in problem.vehicles)
        and all(_plain_visit(vis) for vis in problem.visits)
        and all(_plain_job(problem, job) for job in problem.jobs)
    )


def _plain_objective(problem: Problem) -> bool:
    """One travel profile and distance only: no pull to serve early, no cost of time."""
    return not (problem.early_service or len(problem.profiles) != 1 or problem.weights.per_second)


def _plain_visit(vis: Visit) -> bool:
    """No shared service, visit cost, skills, allowed or preferred vehicles."""
    return not (vis.group or vis.cost or vis.skills or vis.vehicles is not None) and (
        vis.preferred_vehicle is None
    )


def _plain_job(problem: Problem, job: Job) -> bool:
    """One visit, or a pickup then its delivery of the same amount; no alternatives."""
    if any(len(step) != 1 for step in job.steps):
        return False
    if len(job.steps) == 2:
        p, d = problem.visits[job.steps[0][0]], problem.visits[job.steps[1][0]]
        return p.demand >= 0 and d.demand == -p.demand
    return True


def solve(
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
    m = Model()
    locs = [m.add_location(0, 0) for _ in range(problem.num_locations)]
    type_vehicles = _add_vehicle_types(m, problem, _add_depots(m, problem, locs))
    clients = _add_clients(m, problem, locs)
    _add_edges(m, problem, locs)
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
    return _read_back(problem, result, type_vehicles, clients, runtime)


def _add_depots(m: Model, problem: Problem, locs: list[Location]) -> dict[int, Depot]:
    """A depot per distinct start or end location, open over every vehicle's shift."""
    early = min(v.shift.early_s for v in problem.vehicles)
    late = max(v.shift.late_s for v in problem.vehicles)
    depots: dict[int, Depot] = {}
    for veh in problem.vehicles:
        for loc in (veh.start, veh.end):
            if loc not in depots:
                depots[loc] = m.add_depot(locs[loc], tw_early=early, tw_late=late)
    return depots


def _add_vehicle_types(m: Model, problem: Problem, depots: dict[int, Depot]) -> list[list[int]]:
    """A vehicle type per distinct (start, end, capacity, shift, fixed cost); its vehicles."""
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
    return list(types.values())


@dataclass(frozen=True, slots=True)
class _Clients:
    """Which visit each PyVRP client is, and the (pickup, delivery) visits of each shipment."""

    client_visit: list[int]
    shipment_visits: list[tuple[int, int]]


def _add_clients(m: Model, problem: Problem, locs: list[Location]) -> _Clients:
    """A client per one-visit job, a shipment per pickup-then-delivery job."""
    clients = _Clients([], [])
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
            clients.client_visit.append(v)
            continue
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
        clients.shipment_visits.append((pv, dv))
    return clients


def _add_edges(m: Model, problem: Problem, locs: list[Location]) -> None:
    """Every location to every other: the one profile's metres and seconds."""
    prof = next(iter(problem.profiles.values()))
    sec, met = prof.seconds, prof.metres
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            m.add_edge(a, b, distance=int(met[i, j]), duration=int(sec[i, j]))


def _read_back(
    problem: Problem,
    result: Result,
    type_vehicles: list[list[int]],
    clients: _Clients,
    runtime_s: float,
) -> Solution:
    """Routes in vehicle order, with PyVRP's service start times, and the jobs left out."""
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
                v = clients.client_visit[sa.idx]
            else:
                pv, dv = clients.shipment_visits[sa.idx]
                v = pv if sa.is_pickup() else dv
            load += problem.visits[v].demand
            steps.append(RouteStep(v, int(sa.start_time), load))
            served.add(v)
        routes.append(Route(k, int(rt.start_time()), tuple(steps), (), int(rt.end_time())))
    dropped = tuple(
        j for j, job in enumerate(problem.jobs) if not any(v in served for v in job.visits)
    )
    routes.sort(key=lambda r: r.vehicle)
    return Solution(tuple(routes), dropped, int(result.cost()), runtime_s, 1, "solved")
