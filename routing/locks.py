"""Jobs a dispatcher locked to a courier: the job's ``"courier"`` field of a plan request.

A locked job is made by that courier or left unassigned with a reason naming the lock
(:meth:`routing.dossiers._Diagnosis.locked`); the core problem restricts every visit of the
job to that courier's vehicle (:attr:`routing.model.Visit.vehicles`, which OR-Tools enforces on
the vehicle variable and PyVRP cannot express, so :mod:`routing.engines` picks OR-Tools). A day
planned district by district keeps each locked job with its courier's district.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from routing.model import Visit
from routing.request import DossierJob, PlanRequest


def locked_courier(req: PlanRequest, job: DossierJob) -> int | None:
    """Return the index of the courier ``job`` is locked to, or ``None`` when it is free.

    The request reader has checked that the courier exists.
    """
    if job.courier is None:
        return None
    return next(k for k, c in enumerate(req.couriers) if c.id == job.courier)


def lock_steps(steps: Sequence[Sequence[Visit]], vehicle: int) -> list[list[Visit]]:
    """Return a job's steps with every alternative visit allowed to ``vehicle`` only."""
    only = frozenset({vehicle})
    return [[replace(v, vehicles=only) for v in step] for step in steps]


def keep_locks_together(
    req: PlanRequest, parts: list[tuple[list[int], list[int]]]
) -> list[tuple[list[int], list[int]]]:
    """Move each locked job into the part (district or sector) that holds its courier.

    Parameters
    ----------
    req
        The request.
    parts
        ``(courier indices, job indices)`` of each part, as :func:`routing.planner.districts`
        splits a large day.

    Returns
    -------
    list of (courier indices, job indices)
        The same parts, locked jobs moved to their courier's part, parts with no jobs left out.
    """
    if not any(job.courier is not None for job in req.jobs):
        return parts
    home = {k: p for p, (couriers, _) in enumerate(parts) for k in couriers}
    moved = [(list(cs), [j for j in js if req.jobs[j].courier is None]) for cs, js in parts]
    for _, jobs in parts:
        for j in jobs:
            k = locked_courier(req, req.jobs[j])
            if k is not None:
                moved[home.get(k, 0)][1].append(j)
    return [(cs, js) for cs, js in moved if js]


__all__ = ["keep_locks_together", "lock_steps", "locked_courier"]
