"""``/v1/plans/{id}/moves``, ``/locks`` and ``/reoptimise``: a dispatcher adjusts a plan by hand.

Each answers 201 with a new stored plan (the old one stays as it was) and ``broken``: the
promises the new plan breaks, as the independent checker words them (DESIGN §4; a move is
kept as asked even when it makes a citizen wait past the window). Moves and locks are computed
here, in a worker thread (:mod:`routing.retime`; a routing ``AdjustError`` is a ``ValueError``
and answers 422 naming its field); a re-optimisation is a search and goes through the solver
pool like ``POST /v1/plans``, with the plan's locks kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

import routing
from api.deps import DispatcherUser, SessionDep, SettingsDep, SolverDep
from api.errors import error_body
from api.limits import solve_cap_s
from api.planning import district_workers, time_limit_s, travel_model
from api.routes.plans import _progress, plan_answer
from api.schemas import OptionsIn, PlanOut
from routing.checker import check_plan
from routing.retime import Adjusted, JobDoneError, UnknownJobError, lock_jobs, move_job
from tracking.errors import NotFound
from tracking.models import Dossier, StoredPlan
from tracking.plans import get_plan, store_plan

router = APIRouter(prefix="/v1/plans", tags=["plans"])

_ID = Field(min_length=1, max_length=100)
MOVABLE = frozenset({"requested", "processing", "result_ready"})
"""Dossier statuses before any courier touched it: such a job may still move."""


class MoveIn(BaseModel):
    """Move one job to a courier, at a place in its route (or the cheapest place)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"job": "J1", "courier": "c2", "position": 3}]},
    )
    job: str = _ID
    courier: str = _ID
    position: int | None = Field(
        default=None,
        ge=0,
        le=10_000,
        description="Index among the courier's pickups and deliveries before which the job "
        "goes (their count: last); omitted: the cheapest place.",
    )


class LocksIn(BaseModel):
    """Lock jobs to a courier (omitted: each to its current courier), or unlock them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"jobs": ["J1", "J2"], "courier": "c2"}]},
    )
    jobs: list[str] = Field(min_length=1, max_length=5_000)
    courier: str | None = Field(default=None, min_length=1, max_length=100)
    unlock: bool = False


class ReoptimiseIn(BaseModel):
    """Search again around the locks; ``options`` as in a plan request (DESIGN §4)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"time_limit_s": 10}]},
    )
    time_limit_s: float | None = Field(default=None, gt=0)
    options: OptionsIn | None = None


class BrokenOut(BaseModel):
    """A promise the new plan breaks: the checker's stable code and its sentence."""

    job: str | None
    rule: str = Field(examples=["window"])
    words: str
    courier: str | None = None


class AdjustedOut(PlanOut):
    """The new plan (``previous_plan_id``: the plan adjusted) and the promises it breaks."""

    broken: list[BrokenOut]


_ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {"model": AdjustedOut, "description": "The new plan and the promises it breaks."},
    404: {"description": "No such plan, or a job not in it."},
    422: {"description": "A bad courier, position or option; the message names it."},
}


def _store_adjusted(
    session: Session, request: dict[str, Any], plan: dict[str, Any], by: str
) -> StoredPlan:
    """Store an adjusted plan as a draft, made against the published plan its parent was.

    A draft adjusted from a draft keeps that draft's base, so publishing it is refused (409)
    when the day had another plan published meanwhile.
    """
    parent = session.get(StoredPlan, str(plan.get("previous_plan_id")))
    base = None
    if parent is not None:
        base = parent.base_plan_id if parent.state == "draft" else parent.id
    return store_plan(
        session=session,
        request=request,
        plan=plan,
        created_by=by,
        state="draft",
        base_plan_id=base,
    )


def _under_way(session: Session, request: dict[str, Any], jobs: Sequence[str]) -> list[str]:
    """The jobs among ``jobs`` whose dossier a courier has already scanned."""
    wanted = set(jobs)
    codes = {
        str(j.get("dossier")): str(j.get("id"))
        for j in request.get("jobs") or []
        if isinstance(j, dict) and j.get("id") in wanted
    }
    busy: list[str] = []
    listed = list(codes)
    for chunk in range(0, len(listed), 500):  # bounded IN lists, as tracking.plans does
        found = session.exec(
            select(Dossier).where(col(Dossier.code).in_(listed[chunk : chunk + 500]))
        )
        busy.extend(codes[d.code] for d in found if d.status not in MOVABLE)
    return sorted(busy)


def _answer(stored: StoredPlan) -> JSONResponse:
    return plan_answer(stored)


def _keep(session: Session, adjusted: Adjusted, by: str) -> StoredPlan:
    return _store_adjusted(session, dict(adjusted.request), adjusted.to_json(), by)


def _adjust(function: Any, *args: Any, **kwargs: Any) -> Adjusted:
    """Run a routing adjustment; a job it does not know is a 404."""
    try:
        result: Adjusted = function(*args, **kwargs)
    except UnknownJobError as exc:
        raise NotFound(str(exc)) from None
    return result


_SOLVER: dict[int | str, dict[str, Any]] = {
    503: {"description": "The solver crashed or overran its hard time limit."}
}
_UNDER_WAY: dict[int | str, dict[str, Any]] = {
    409: {"description": "The job is under way or done (its dossier was scanned)."}
}


@router.post(
    "/{plan_id}/moves", status_code=201, response_model=None, responses=_ANSWERS | _UNDER_WAY
)
async def move(
    *, plan_id: str, body: MoveIn, session: SessionDep, user: DispatcherUser, settings: SettingsDep
) -> JSONResponse:
    """Move a job to a courier, re-time the routes as given and store the result as a new plan.

    The routes are ridden as asked, even past a window or a shift; ``broken`` then lists every
    promise the new plan breaks. A job whose dossier a courier has scanned cannot move (409).
    A locked job's lock follows it to its new courier.
    """
    stored = await run_in_threadpool(get_plan, session=session, plan_id=plan_id)
    request = dict(stored.request_json)
    busy = await run_in_threadpool(_under_way, session, request, [body.job])
    if busy:
        msg = (
            f"job: {body.job} is under way or done (its dossier has been scanned); it cannot move."
        )
        return JSONResponse(status_code=409, content=error_body("conflict", msg))
    try:
        adjusted = await run_in_threadpool(
            _adjust, move_job, request, stored.plan(), body.job, body.courier, body.position,
            travel=travel_model(settings),
        )  # fmt: skip
    except JobDoneError as exc:
        return JSONResponse(status_code=409, content=error_body("conflict", str(exc)))
    return _answer(await run_in_threadpool(_keep, session, adjusted, user.name))


@router.post("/{plan_id}/locks", status_code=201, response_model=None, responses=_ANSWERS)
async def lock(
    *, plan_id: str, body: LocksIn, session: SessionDep, user: DispatcherUser, settings: SettingsDep
) -> JSONResponse:
    """Lock jobs to a courier (or unlock them): a new plan whose request carries the locks.

    The routes stay as they are; a job locked to a courier whose route does not have it shows
    as a broken ``lock`` until it is moved or the plan is re-optimised.
    """
    stored = await run_in_threadpool(get_plan, session=session, plan_id=plan_id)
    adjusted = await run_in_threadpool(
        _adjust, lock_jobs, dict(stored.request_json), stored.plan(), body.jobs, body.courier,
        unlock=body.unlock, travel=travel_model(settings),
    )  # fmt: skip
    return _answer(await run_in_threadpool(_keep, session, adjusted, user.name))


@router.post(
    "/{plan_id}/reoptimise", status_code=201, response_model=None, responses=_ANSWERS | _SOLVER
)
async def reoptimise(
    *,
    plan_id: str,
    body: ReoptimiseIn,
    session: SessionDep,
    user: DispatcherUser,
    settings: SettingsDep,
    solver: SolverDep,
) -> JSONResponse:
    """Search the plan's request again, its locked jobs kept on their couriers; a new plan.

    The search runs in the solver pool under the same limits as ``POST /v1/plans``, starting
    from the plan's routes where the solver accepts them (OR-Tools' warm start). Once a
    courier has scanned any of the plan's dossiers, the day has begun: it is re-planned from
    the recorded scans and positions as ``POST /v1/plans/{id}/replan`` does (done stops kept,
    couriers starting where they are), the locks still kept.
    """
    stored = await run_in_threadpool(get_plan, session=session, plan_id=plan_id)
    request = dict(stored.request_json)
    if body.options is not None:
        given = body.options.model_dump(mode="json", exclude_unset=True)
        request["options"] = {**(request.get("options") or {}), **given}
    limit = min(time_limit_s(request, settings, body.time_limit_s), solve_cap_s(user, settings))
    travel = travel_model(settings)
    ids = [str(j.get("id")) for j in request.get("jobs") or [] if isinstance(j, dict)]
    begun = await run_in_threadpool(_under_way, session, request, ids)
    if begun:
        now = datetime.now(UTC)
        done, positions = await run_in_threadpool(_progress, session, stored, now)
        plan = await solver.solve(
            routing.replan,
            request,
            stored.plan_json,
            now=now.isoformat(),
            positions=positions,
            done=done,
            time_limit_s=limit,
            travel=travel,
            wall_limit_s=limit + settings.solve_grace_s,
        )
    else:
        plan = await solver.solve(
            routing.plan_request,
            request,
            time_limit_s=limit,
            travel=travel,
            initial_plan=stored.plan_json,  # a warm start from the routes as adjusted
            workers=district_workers(request, settings),
            wall_limit_s=limit + settings.solve_grace_s,
        )
    found = await run_in_threadpool(check_plan, request, plan, travel=travel)
    plan = {**plan, "previous_plan_id": stored.id}
    plan["broken"] = [
        {"job": v.job, "rule": v.code, "words": v.detail, "courier": v.courier} for v in found
    ]
    new = await run_in_threadpool(_store_adjusted, session, request, plan, user.name)
    return _answer(new)


__all__ = ["router"]
