"""Idle time: the minutes couriers wait between stops, and couriers left free while jobs wait.

A route's *idle* time is the part of it spent neither riding, serving nor on a break: waiting
on a doorstep for a citizen's window to open, or at a site for a result to be ready. Waiting
before the first stop does not count (the route leaves as late as its first stop allows, see
:func:`routing.solver.earliest_schedule`).

A courier's *free* time is its shift minus what its route keeps it busy with (riding, serving,
breaks): the idle time plus the shift before it leaves and after it is back. A courier free
for hours (:data:`IDLE_WARN_MIN`) while jobs of its district go unassigned for ``no_time`` is a
search failure, or a day whose windows do not fit its free time: the plan reports it
(``kpis.idle_while_unserved``) so a dispatcher can plan again with more time or look closer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from routing.dossiers import Built
from routing.model import Problem, Route, RouteStep
from routing.plan import IdleWhileUnserved, Unassigned
from routing.plan import Route as PlanRoute
from routing.request import Courier, PlanRequest

IDLE_WARN_MIN = 120.0
"""Free minutes in a shift from which a courier counts as idle while its district's jobs wait."""


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _group(problem: Problem, step: RouteStep) -> str | None:
    return problem.visits[step.visit].group


def route_idle_s(built: Built, route: Route) -> int:
    """Seconds a solved route waits between its stops.

    For each leg, the time from leaving one stop to starting service at the next, less the
    ride and the breaks taken in between. Visits of one site stop (consecutive visits of the
    same group) are one stop, served once, as the plan writes them.

    Parameters
    ----------
    built
        The problem as built from the request.
    route
        One route of the solver's answer to ``built.problem``.
    """
    problem = built.problem
    veh = problem.vehicles[route.vehicle]
    sec = problem.profiles[veh.profile].seconds
    prev_loc, prev_depart = veh.start, route.depart_s
    idle = 0
    steps = list(route.steps)
    i = 0
    while i <= len(steps):
        if i == len(steps):
            loc, start, service, i = veh.end, route.end_s, 0, i + 1
        else:
            vis = problem.visits[steps[i].visit]
            j = i + 1  # the other visits of the same site stop
            while j < len(steps) and vis.group and vis.group == _group(problem, steps[j]):
                j += 1
            loc, service = vis.location, vis.service_s
            start = max(s.start_s for s in steps[i:j])
            i = j
        leg = (prev_depart, start)
        resting = sum(_overlap(leg, (bs, bs + dur)) for bs, dur in route.breaks)
        idle += max(0, start - prev_depart - int(sec[prev_loc, loc]) - resting)
        prev_loc, prev_depart = loc, start + service
    return idle


def free_min(courier: Courier, route: PlanRoute | None) -> float:
    """Minutes of a courier's shift not spent riding, serving or on a break.

    Parameters
    ----------
    courier
        The courier, with its shift and breaks.
    route
        Its route in the plan (``None``: it has none, and its whole shift but its breaks is free).
    """
    shift_min = (courier.shift_s[1] - courier.shift_s[0]) / 60.0
    if route is None or route.duration_min is None:
        return shift_min - sum(b.duration_s for b in courier.breaks) / 60.0
    return max(0.0, shift_min - route.duration_min + (route.idle_min or 0.0))


def idle_while_unserved(
    req: PlanRequest,
    routes: Sequence[PlanRoute],
    unassigned: Sequence[Unassigned],
    districts: Iterable[tuple[Sequence[int], Sequence[int]]],
) -> tuple[IdleWhileUnserved, ...]:
    """Couriers free for :data:`IDLE_WARN_MIN` or more while their district's jobs went unserved.

    Parameters
    ----------
    req
        The request.
    routes, unassigned
        The plan's routes and unassigned jobs.
    districts
        ``(courier indices, job indices)`` of the request per district (the whole day is one).

    Returns
    -------
    tuple of IdleWhileUnserved
        In the order of the districts and their couriers.
    """
    by_courier = {r.courier: r for r in routes}
    no_time = {u.job for u in unassigned if u.reason == "no_time"}
    out: list[IdleWhileUnserved] = []
    for couriers, jobs in districts:
        unserved = sum(1 for j in jobs if req.jobs[j].id in no_time)
        if not unserved:
            continue
        for k in couriers:
            courier = req.couriers[k]
            free = free_min(courier, by_courier.get(courier.id))
            if free >= IDLE_WARN_MIN:
                warning = IdleWhileUnserved(
                    courier=courier.id, free_min=round(free, 1), unserved=unserved
                )
                out.append(warning)
    return tuple(out)


__all__ = ["IDLE_WARN_MIN", "free_min", "idle_while_unserved", "route_idle_s"]
