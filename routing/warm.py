"""A warm start for re-optimising: a stored plan's routes as visit indices of a new problem.

Re-optimising a plan adjusted by hand searches from its routes rather than from scratch
(OR-Tools' ``ReadAssignmentFromRoutes``, in :mod:`routing.solver`). Each stop is matched to the
visit of the problem built from the request (:func:`routing.dossiers.build_problem`): a home stop
to its job's pickup or delivery, a hand-off to the alternative of the run it names (the
"no run today" one when it names none), a collect to its job's collect. Stops the problem does
not have (a job now settled, a run no longer offered) are left out; routes the solver then
refuses are ignored there.
"""

from __future__ import annotations

from routing.dossiers import Built
from routing.plan import Plan


def initial_routes(built: Built, plan: Plan) -> list[list[int]]:
    """Per vehicle of ``built.problem``, the visit indices of ``plan``'s route, in order.

    Parameters
    ----------
    built
        The problem built from the request (the whole day, or one district's part).
    plan
        The plan whose routes are the warm start.

    Returns
    -------
    list of list of int
        One list per courier of ``built.req``; empty for a courier with no route in ``plan``.
    """
    req = built.req
    job_index = {job.id: j for j, job in enumerate(req.jobs)}
    visit_of: dict[tuple[int, str, str | None], int] = {}
    for index, meaning in enumerate(built.roles):
        run = None if meaning.missed else meaning.run
        visit_of.setdefault((meaning.job, meaning.role, run), index)
    routes = []
    for courier in req.couriers:
        route = plan.route_of(courier.id)
        visits: list[int] = []
        for stop in route.stops if route is not None else ():
            run = stop.shuttle if stop.kind == "handoff" else None
            for job in stop.job_ids:
                j = job_index.get(job)
                if j is None:
                    continue
                # A hand-off to a run no longer offered falls back on "no run today".
                v = visit_of.get((j, stop.kind, run))
                if v is None:
                    v = visit_of.get((j, stop.kind, None))
                if v is not None:
                    visits.append(v)
        routes.append(visits)
    return routes


__all__ = ["initial_routes"]
