"""``/v1/plans``: plan a day by solving (dispatchers), read and list plans, re-plan in the day."""

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
from api.schemas import EXAMPLE_REQUEST, PlanListOut, PlanOut, PlanRequestIn, PlanSummary, ReplanIn
from tracking.models import StoredPlan
from tracking.plans import get_plan, store_plan
from tracking.plans import list_plans as stored_plans

router = APIRouter(prefix="/v1/plans", tags=["plans"])
log = logging.getLogger("buuta.api")

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _plan_json(stored: StoredPlan) -> dict[str, Any]:
    plan: dict[str, Any] = stored.plan_json
    return plan


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


def _store(session: Session, request: dict[str, Any], plan: dict[str, Any], by: str) -> StoredPlan:
    """Store a plan; retry when a concurrent plan registered the same site or courier first.

    Two dispatchers planning two districts at once both register the province's sites: on
    PostgreSQL one of the inserts loses with a unique violation. The loser's transaction is
    rolled back by ``store_plan``; on the next attempt the rows exist and are updated.
    """
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            return store_plan(session=session, request=request, plan=plan, created_by=by)
        except sa.exc.IntegrityError:
            session.rollback()
            if attempt == STORE_ATTEMPTS:
                raise
            log.info("storing plan %s raced another plan; retrying", plan.get("plan_id"))
    raise AssertionError  # unreachable: the loop returns or raises


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
    point of the ward or district named; the job says ``geocoded``).

    The solve runs in a separate solver process under a hard wall-clock limit (the time limit
    plus a grace period), so a crash or an endless solve answers 503 and the service stays up.
    """
    check_plan_date(body.date)  # routing does not read the clock; a year from today at most
    request = body.model_dump(mode="json", exclude_unset=True)
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
    stored = await run_in_threadpool(_store, session, request, plan, user.name)
    return JSONResponse(
        status_code=201, content=_plan_json(stored), headers={"Location": f"/v1/plans/{stored.id}"}
    )


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
    lists what changed (``changes``).
    """
    stored = await run_in_threadpool(_load, session, plan_id)
    request: dict[str, Any] = dict(stored.request_json)
    previous = _plan_json(stored)
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
    stored_new = await run_in_threadpool(_store, session, new_request, plan, user.name)
    return JSONResponse(
        status_code=201,
        content=_plan_json(stored_new),
        headers={"Location": f"/v1/plans/{stored_new.id}"},
    )
