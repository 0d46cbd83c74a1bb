"""``/v1/plans``: plan a day by solving (dispatchers), read and list plans, re-plan in the day,
and review, publish or discard a draft."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

import routing
import tracking
from api.dates import check_plan_date
from api.deps import DispatcherUser, GeocoderDep, SessionDep, SettingsDep, SolverDep, StaffUser
from api.limits import plan_lists_within_limits, solve_cap_s
from api.planning import district_workers, geocode_jobs, time_limit_s, travel_model
from api.review import draft_review
from api.schemas import EXAMPLE_REQUEST, PlanListOut, PlanOut, PlanRequestIn, PlanSummary, ReplanIn
from api.settings import Settings
from api.solver_pool import SolverPool
from tracking.drafts import discard_draft, publish_plan, supersede
from tracking.errors import Conflict, InvalidInput
from tracking.models import StoredPlan, User
from tracking.plans import get_plan, published_plan, store_plan
from tracking.plans import list_plans as stored_plans

router = APIRouter(prefix="/v1/plans", tags=["plans"])
log = logging.getLogger("buuta.api")

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _plan_json(stored: StoredPlan) -> dict[str, Any]:
    """The plan of §4 as stored, with its ``state`` (draft, published, superseded) added."""
    return {**stored.plan_json, "state": stored.state}


def _progress(
    session: Session, stored: StoredPlan, now: datetime
) -> tuple[list[dict[str, str]], dict[str, dict[str, Any]]]:
    """Return the plan's done stops (``{"job", "type"}``, from the recorded scans) and each
    courier's last recorded position."""
    done: list[dict[str, str]] = []
    positions: dict[str, dict[str, Any]] = {}
    for route in stored.plan().routes:
        courier = route.courier
        stops = tracking.courier_stops(
            session=session, courier_id=courier, date=stored.date, now=now
        )
        for stop in stops:
            if stop.get("state") != "done":
                continue
            jobs = [stop["job"]] if stop.get("job") else list(stop.get("jobs") or [])
            done.extend({"job": str(job), "type": str(stop["type"])} for job in jobs)
        track = tracking.courier_track(session=session, courier_id=courier, date=stored.date)
        if track["positions"]:
            last = track["positions"][-1]
            positions[courier] = {"lat": last["lat"], "lon": last["lon"], "at": last["at"]}
    return done, positions


def _load(session: Session, plan_id: str) -> StoredPlan:
    return get_plan(session=session, plan_id=plan_id)


STORE_ATTEMPTS = 3


def _store(
    session: Session,
    request: dict[str, Any],
    plan: dict[str, Any],
    by: str,
    draft: bool = False,
) -> StoredPlan:
    """Store a plan (published, or a draft made against the day's published plan); retry when
    a concurrent plan registered the same site or courier first.

    Two dispatchers planning two districts at once both register the province's sites: on
    PostgreSQL one of the inserts loses with a unique violation. The loser's transaction is
    rolled back by ``store_plan``; on the next attempt the rows exist and are updated.
    """
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            if not draft:
                return store_plan(session=session, request=request, plan=plan, created_by=by)
            base = published_plan(session=session, date=str(plan.get("date")))
            return store_plan(
                session=session,
                request=request,
                plan=plan,
                created_by=by,
                state="draft",
                base_plan_id=base.id if base is not None else None,
            )
        except sa.exc.IntegrityError:
            session.rollback()
            if attempt == STORE_ATTEMPTS:
                raise
            log.info("storing plan %s raced another plan; retrying", plan.get("plan_id"))
    raise AssertionError  # unreachable: the loop returns or raises


async def solve_and_store(
    request: dict[str, Any],
    *,
    session: Session,
    user: User,
    settings: Settings,
    solver: SolverPool,
    coder: Any,
    draft: bool = False,
) -> StoredPlan:
    """Place the jobs given by address, solve the request of §4 and store the plan.

    The solve runs in a separate solver process under a hard wall-clock limit (the time limit
    plus a grace period), so a crash or an endless solve answers 503 and the service stays up.
    """
    geocode_jobs(request, coder)
    limit = min(time_limit_s(request, settings), solve_cap_s(user, settings))
    plan = await solver.solve(
        routing.plan_request,
        request,
        time_limit_s=limit,
        travel=travel_model(settings),
        workers=district_workers(request, settings),
        wall_limit_s=limit + settings.solve_grace_s,
    )
    return await run_in_threadpool(_store, session, request, plan, user.name, draft)


def plan_answer(stored: StoredPlan, *, status_code: int = 201) -> JSONResponse:
    """The answer carrying a stored plan (its JSON with ``state``) and where to read it."""
    return JSONResponse(
        status_code=status_code,
        content=_plan_json(stored),
        headers={"Location": f"/v1/plans/{stored.id}"},
    )


@router.post(
    "",
    status_code=201,
    response_model=None,
    dependencies=[Depends(plan_lists_within_limits)],  # before the body is validated
    responses={
        201: {"model": PlanOut, "description": "The plan; every job is routed or unassigned."},
        422: {"description": "The request is invalid; the message names the field."},
        503: {"description": "The solver crashed or overran its hard time limit."},
    },
    openapi_extra={"requestBody": {"content": {"application/json": {"example": EXAMPLE_REQUEST}}}},
)
async def create_plan(
    *,
    body: PlanRequestIn,
    session: SessionDep,
    user: DispatcherUser,
    settings: SettingsDep,
    solver: SolverDep,
    coder: GeocoderDep,
) -> JSONResponse:
    """Solve a day's planning problem (DESIGN §4), store the plan and its dossiers, answer 201.

    Jobs given by ``address`` without ``lat``/``lon`` are placed by the geocoder first (at the
    point of the ward or district named; the job says ``geocoded``). The plan is published at
    once (``"state": "published"``): couriers see their routes.

    The solve runs in a separate solver process under a hard wall-clock limit (the time limit
    plus a grace period), so a crash or an endless solve answers 503 and the service stays up.
    """
    check_plan_date(body.date)  # routing does not read the clock; a year from today at most
    request = body.model_dump(mode="json", exclude_unset=True)
    stored = await solve_and_store(
        request, session=session, user=user, settings=settings, solver=solver, coder=coder
    )
    return plan_answer(stored)


@router.get("", response_model=PlanListOut)
def list_plans(
    session: SessionDep,
    _user: StaffUser,
    date: Annotated[str, Query(pattern=DATE_PATTERN, examples=["2026-11-23"])],
) -> PlanListOut:
    """List the stored plans of a day (``YYYY-MM-DD``), newest first."""
    plans = stored_plans(session=session, date=date)
    data = [
        PlanSummary(
            plan_id=p.id,
            date=p.date,
            status=p.status,
            state=p.state,
            created_by=p.created_by,
            created_at=p.created_at.isoformat() if p.created_at else None,
            kpis=(p.plan_json or {}).get("kpis"),
        )
        for p in plans
    ]
    return PlanListOut(data=data, count=len(data))


@router.get("/{plan_id}", response_model=None, responses={200: {"model": PlanOut}})
def read_plan(plan_id: str, session: SessionDep, _user: StaffUser) -> dict[str, Any]:
    """Return a stored plan exactly as it was planned (DESIGN §4)."""
    return _plan_json(_load(session, plan_id))


@router.post(
    "/{plan_id}/replan",
    status_code=201,
    response_model=None,
    dependencies=[Depends(plan_lists_within_limits)],
    responses={201: {"model": PlanOut}, 503: {"description": "The solver is unavailable."}},
)
async def replan(
    *,
    plan_id: str,
    body: ReplanIn,
    session: SessionDep,
    user: DispatcherUser,
    settings: SettingsDep,
    solver: SolverDep,
    coder: GeocoderDep,
) -> JSONResponse:
    """Re-plan a stored plan during the day and store the result as a new plan.

    Stops already done (from the recorded scans) stay as they were, each courier starts from
    its last recorded position, added jobs are planned and cancelled jobs dropped. The answer
    lists what changed (``changes``). With ``"draft": true`` the new plan is a draft that
    nobody but the dispatchers sees until it is published; otherwise it is published at once
    and the plan it replaces is superseded.
    """
    if body.draft:
        for i, job in enumerate(body.added_jobs):
            if job.citizen is not None or job.address is not None:
                what = "citizen" if job.citizen is not None else "address"
                msg = (
                    f"added_jobs[{i}].{what}: a draft keeps no citizen's data; book the "
                    "request (POST /v1/requests) and re-plan, or re-plan without a draft"
                )
                raise InvalidInput(msg)
    stored = await run_in_threadpool(_load, session, plan_id)
    request: dict[str, Any] = dict(stored.request_json)
    previous = stored.plan_json
    now = body.now or datetime.now(UTC)
    done, positions = await run_in_threadpool(_progress, session, stored, now)
    added = [job.model_dump(mode="json", exclude_unset=True) for job in body.added_jobs]
    geocode_jobs({"jobs": added}, coder)
    limit = min(time_limit_s(request, settings, body.time_limit_s), solve_cap_s(user, settings))
    plan = await solver.solve(
        routing.replan,
        request,
        previous,
        now=now.isoformat(),
        positions=positions,
        done=done,
        added_jobs=added,
        cancelled_jobs=list(body.cancelled_jobs),
        time_limit_s=limit,
        travel=travel_model(settings),
        wall_limit_s=limit + settings.solve_grace_s,
    )
    new_request = {**request, "jobs": [*request.get("jobs", []), *added]}
    stored_new = await run_in_threadpool(_store, session, new_request, plan, user.name, body.draft)
    if not body.draft:
        await run_in_threadpool(supersede, session=session, plan_id=stored.id)
    return plan_answer(stored_new)


@router.post(
    "/{plan_id}/publish",
    response_model=None,
    responses={
        200: {"model": PlanOut, "description": "The plan, now published."},
        404: {"description": "No such plan."},
        409: {"description": "Not a draft, or another plan of its day was published since."},
    },
)
def publish(plan_id: str, session: SessionDep, user: DispatcherUser) -> JSONResponse:
    """Publish a draft: couriers, staff and citizens now see it.

    Its dossiers are registered as a published plan's are, the day's published plan it was made
    against becomes ``superseded``, and the book's requests on its routes become ``planned``
    (those it leaves out, if they were planned, ``open`` again). A plan that is not a draft
    (a double click's second publish) answers 409, and so does a draft whose day has had
    another plan published since it was made: re-plan.
    """
    stored = publish_plan(session=session, plan_id=plan_id, published_by=user.name)
    return plan_answer(stored, status_code=200)


@router.post(
    "/{plan_id}/discard",
    response_model=None,
    responses={
        200: {"description": "The draft is forgotten."},
        404: {"description": "No such plan."},
        409: {"description": "Not a draft: a published plan is replaced, never discarded."},
    },
)
def discard(plan_id: str, session: SessionDep, _user: DispatcherUser) -> dict[str, Any]:
    """Discard a draft; it had registered nothing, so nothing else changes."""
    discard_draft(session=session, plan_id=plan_id)
    return {"plan_id": plan_id, "discarded": True}


@router.get(
    "/{plan_id}/changes",
    response_model=None,
    responses={
        200: {"description": "What the draft changes against the day's published plan."},
        404: {"description": "No such plan."},
        409: {"description": "Not a draft."},
    },
)
def draft_changes(
    plan_id: str, session: SessionDep, _user: StaffUser, settings: SettingsDep
) -> dict[str, Any]:
    """What publishing a draft would change, against the day's published plan (if any).

    ``changes``: one entry per job that changes, ``{"job", "dossier", "change", "from", "to",
    "from_start", "to_start", "minutes", "reason", "detail"}`` with ``change`` one of
    ``dropped`` (served in the published plan, on no route in the draft, with the draft's
    reason; ``not_in_draft`` when the draft does not plan it), ``moved`` (another courier),
    ``retimed`` (the home visit begins more than 10 minutes earlier or later) and ``added``.
    ``kpis``: ``served``, ``unassigned``, ``distance_km`` and ``runs_caught``, each
    ``{"published", "draft", "delta"}``. ``violations``: every promise the draft breaks, from
    the independent checker (``{"code", "detail", "courier", "job"}``).
    """
    stored = _load(session, plan_id)
    if stored.state != "draft":
        msg = f"plan_id: this plan is {stored.state}; changes are shown for a draft"
        raise Conflict(msg)
    against = published_plan(session=session, date=stored.date)
    return draft_review(stored, against, travel=travel_model(settings)).to_json()
