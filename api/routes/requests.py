"""The request book over HTTP (DESIGN §8): requests, their import, the roster, a day's plan.

``POST /v1/requests`` and ``POST /v1/requests/import`` check every item with one schema
(:class:`RequestIn`) and answer one result per item, in order; a refused item is not stored,
the others are. ``POST /v1/days/{date}/plan`` plans a day from the book through the very route
that answers ``POST /v1/plans``, as a draft to review and publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date as calendar_date
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Body, File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.batch import decode_list, list_body_openapi
from api.dates import check_plan_date
from api.deps import DispatcherUser, GeocoderDep, SessionDep, SettingsDep, SolverDep, StaffUser
from api.request_import import MAX_ROWS, Row, column_of, read_rows, request_of
from api.routes import plans
from api.schemas import CourierIn, JobIn, OptionsIn, PlanOut, PlanRequestIn, ShuttleIn, SiteIn
from routing.request import MAX_ENTRIES, RequestError, parse_request, parse_time
from tracking.carry_over import carry_over_before, mark_priorities
from tracking.errors import InvalidInput
from tracking.plans import published_plan
from tracking.requests import (
    STATUSES,
    BookResult,
    book_requests,
    cancel_request,
    check_request,
    day_request,
    get_roster,
    list_requests,
    planned_jobs,
    put_roster,
    request_json,
)

router = APIRouter(tags=["requests"])

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
Status = Literal["open", "planned", "done", "failed", "cancelled", "carried"]
if get_args(Status) != STATUSES:  # the book's statuses, documented as an enum
    raise AssertionError(STATUSES)

EXAMPLE_ITEM: dict[str, Any] = {
    "id": "RQ-0001", "kind": "pickup", "dossier": "H12.22-261123-0001", "date": "2026-11-23",
    "window": ["08:00", "11:00"], "address": "Ấp 3, xã Khánh Bình Tây, huyện Trần Văn Thời",
    "handoff_site": "po-tvt", "destination_site": "centre", "service_min": 10,
    "procedure": "Đăng ký khai sinh", "due": "2026-11-27",
    "citizen": {"name": "Nguyễn Văn An", "phone": "0912345678", "id_number": "096080001234"},
}  # fmt: skip

EXAMPLE_ROSTER: dict[str, Any] = {
    "sites": [
        {"id": "centre", "kind": "centre", "name": "Trung tâm PVHCC", "lat": 9.1769,
         "lon": 105.1524},
        {"id": "po-tvt", "kind": "post_office", "name": "Bưu điện Trần Văn Thời", "lat": 9.0809,
         "lon": 104.9716},
    ],
    "shuttles": [{"id": "run-1000", "from_site": "po-tvt", "to_site": "centre",
                  "departs": "10:00", "arrives": "10:50", "handoff_min": 10}],
    "couriers": [{"id": "c1", "start_site": "po-tvt", "end_site": "po-tvt", "mode": "motorbike",
                  "capacity": 40, "shift": ["07:00", "17:00"],
                  "breaks": [{"earliest": "11:00", "latest": "13:30", "duration_min": 60}]}],
}  # fmt: skip


class RequestIn(JobIn):
    """A request of the book: a job of §4 with the day it is wanted (and, as in §4, an optional
    ``address`` placed by the gazetteer, the ``citizen``, the ``procedure`` and the ``due``)."""

    date: str = Field(pattern=DATE_PATTERN, examples=["2026-11-23"])


class ItemError(BaseModel):
    """What is wrong with one field of a request (named as the import's column)."""

    field: str
    message: str


class RequestResult(BaseModel):
    """What happened to one request: ``created``, ``updated``, ``unchanged`` or ``error``."""

    id: str | None
    status: str
    errors: list[ItemError] = Field(default_factory=list)
    duplicate_of: list[str] = Field(
        default_factory=list, description="Other requests of the same day for the same dossier."
    )


class RequestResultsOut(BaseModel):
    """One result per request, in the order sent."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"results": [
        {"id": "RQ-0001", "status": "created", "errors": [], "duplicate_of": []},
        {"id": "RQ-0002", "status": "error", "duplicate_of": [],
         "errors": [{"field": "window_from", "message": "expected a time as HH:MM"}]},
    ]}]})  # fmt: skip

    results: list[RequestResult]


class RowError(BaseModel):
    """What is wrong with one cell of an imported row."""

    column: str
    message: str


class RowResult(BaseModel):
    """What happened to one row of an imported file (``row`` 2 is the first under the header)."""

    row: int
    id: str | None
    status: str
    errors: list[RowError] = Field(default_factory=list)
    duplicate_of: list[str] = Field(default_factory=list)


class ImportOut(BaseModel):
    """The answer to an import: every row, and how many ended in each status."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "dry_run": False,
        "rows": [
            {"row": 2, "id": "RQ-0001", "status": "created", "errors": [], "duplicate_of": []},
            {"row": 3, "id": "RQ-0002", "status": "error", "duplicate_of": [],
             "errors": [{"column": "address", "message": "give an address, or lat and lon"}]},
        ],
        "counts": {"created": 1, "updated": 0, "unchanged": 0, "error": 1},
    }]})  # fmt: skip

    dry_run: bool
    rows: list[RowResult]
    counts: dict[str, int]


class RequestListOut(BaseModel):
    """Requests of the book (``citizen`` and ``address`` only for roles that may see them)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 1, "data": [{
        **{k: v for k, v in EXAMPLE_ITEM.items() if k not in ("address", "citizen")},
        "status": "open", "lat": 9.0944, "lon": 104.8863, "plan_id": None,
        "geocoded": {"precision": "ward", "name": "Khánh Bình Tây"},
        "address": EXAMPLE_ITEM["address"],
        "citizen": {"name": "Nguyễn Văn An", "phone": "0912345678", "has_id_number": True},
    }]}]})  # fmt: skip

    data: list[dict[str, Any]]
    count: int


class RosterOut(BaseModel):
    """The stored roster, and when it was last replaced (``null``: never)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{**EXAMPLE_ROSTER, "updated_at": "2026-11-22T10:00:00Z"}]},
    )
    sites: list[dict[str, Any]]
    shuttles: list[dict[str, Any]]
    couriers: list[dict[str, Any]]
    updated_at: str | None


class RosterIn(BaseModel):
    """The stored roster: sites, shuttle timetable and couriers, in the shapes of §4."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ROSTER]})
    sites: list[SiteIn] = Field(max_length=MAX_ENTRIES["sites"])
    shuttles: list[ShuttleIn] = Field(default_factory=list, max_length=MAX_ENTRIES["shuttles"])
    couriers: list[CourierIn] = Field(max_length=MAX_ENTRIES["couriers"])


class DayPlanIn(BaseModel):
    """Options of a day's plan, as in §4 (``time_limit_s``, ``solution_limit``, ``seed``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"options": {"time_limit_s": 10}}]})

    options: OptionsIn | None = None


def _validated(item: Any) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Check one request's shape and date; answer the plain request or its errors."""
    try:
        valid = RequestIn.model_validate(item)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        return None, [(column_of(e["loc"]), e["msg"]) for e in problems]
    try:
        check_plan_date(valid.date)
    except InvalidInput as exc:
        return None, [("date", str(exc).removeprefix("date: "))]
    errors = _time_errors(valid)
    if errors:
        return None, errors
    return valid.model_dump(mode="json", exclude_none=True), []


def _time_errors(valid: RequestIn) -> list[tuple[str, str]]:
    """Read the request's times as the planner will (``HH:MM`` or ISO, on the request's day)."""
    day = calendar_date.fromisoformat(valid.date)
    times = {"window_from": valid.window[0], "window_to": valid.window[1]}
    if valid.ready_at is not None:
        times["ready_at"] = valid.ready_at
    seconds: dict[str, int] = {}
    errors: list[tuple[str, str]] = []
    for name, text in times.items():
        try:
            seconds[name] = parse_time(text, day, name)
        except RequestError:
            msg = "expected a time of the request's day as HH:MM (or an ISO datetime)"
            errors.append((name, msg))
    if not errors and seconds["window_to"] <= seconds["window_from"]:
        errors.append(("window_to", "the window must close after it opens"))
    return errors


def _id_of(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, dict) else None
    return str(value)[:100] if isinstance(value, str | int) else None


def _book(
    session: Session, items: Sequence[Any], coder: Any, actor: str, *, dry_run: bool
) -> list[BookResult]:
    """Book the valid items and merge their results with the refused ones, in order."""
    results: list[BookResult | None] = []
    valid: list[dict[str, Any]] = []
    for item in items:
        checked, errors = _validated(item)
        if checked is None:
            results.append(BookResult(_id_of(item), "error", errors))
        else:
            results.append(None)
            valid.append(checked)
    booked = iter(
        book_requests(session=session, items=valid, coder=coder, actor=actor, dry_run=dry_run)
    )
    return [r if r is not None else next(booked) for r in results]


def book_items(
    session: Session, items: Sequence[Any], coder: Any, actor: str, *, dry_run: bool = False
) -> list[BookResult]:
    """Check and book requests exactly as ``POST /v1/requests`` does (the hotline form's way in).

    Returns one result per item, in order; errors are ``(field, message)`` pairs named by the
    import's flat column names (``window_from``, ``citizen_phone``).
    """
    return _book(session, items, coder, actor, dry_run=dry_run)


def checked_item(item: Any) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Check one request as ``POST /v1/requests`` does before booking it, storing nothing.

    Returns the request as the book would take it (its address not yet placed) and no errors,
    or ``None`` and its errors (``(field, message)``, as :func:`book_items` names them).
    """
    checked, errors = _validated(item)
    if checked is None:
        return None, errors
    errors = check_request(checked)
    return (None, errors) if errors else (checked, [])


def import_rows(
    session: Session, rows: list[Row], coder: Any, actor: str, *, dry_run: bool
) -> dict[str, Any]:
    """Answer an imported file's rows exactly as ``POST /v1/requests/import`` does."""
    return _import(session, rows, coder, actor, dry_run=dry_run)


def checked_roster(body: RosterIn) -> dict[str, Any]:
    """The roster of ``body`` as stored, checked as the planner checks it.

    Raises
    ------
    routing.request.RequestError
        Naming the field (``couriers[1].start_site: unknown site 'x'.``).
    """
    roster = body.model_dump(mode="json", exclude_none=True)
    parse_request({"date": "2026-01-05", **roster, "jobs": []})  # raises naming the field
    return roster


def _list_body() -> dict[str, Any]:
    extra = list_body_openapi(RequestIn, "Requests (at most BUUTA_MAX_BATCH).")
    extra["requestBody"]["content"]["application/json"]["example"] = [EXAMPLE_ITEM]
    return extra


@router.post(
    "/v1/requests",
    response_model=None,
    responses={
        200: {"model": RequestResultsOut, "description": "One result per request, in order."},
        413: {"description": "More requests than the batch limit, or a body too large."},
        422: {"description": "The body is not a JSON list."},
    },
    openapi_extra=_list_body(),
)
async def post_requests(
    request: Request, session: SessionDep, user: DispatcherUser, settings: SettingsDep,
    coder: GeocoderDep,
) -> JSONResponse:  # fmt: skip
    """Book requests (idempotent by ``id``) and answer one result per request, in order.

    ``created``; ``unchanged`` (the same content again); ``updated`` (other content while the
    request is still open); ``error`` with ``errors: [{"field", "message"}]`` (nothing of that
    request stored; a request no longer open cannot be changed). ``duplicate_of`` names other
    requests of the same day for the same dossier. An ``address`` without ``lat``/``lon`` is
    placed by the offline gazetteer; the request keeps how sure it was (``geocoded``).
    """
    items = await decode_list(await request.body(), max_items=settings.max_batch, what="requests")
    results = await run_in_threadpool(_book, session, items, coder, user.name, dry_run=False)
    return JSONResponse({"results": [_result_json(r, key="field") for r in results]})


def _result_json(result: BookResult, *, key: str) -> dict[str, Any]:
    return {
        "id": result.id,
        "status": result.status,
        "errors": [{key: name, "message": message} for name, message in result.errors],
        "duplicate_of": result.duplicate_of,
    }


def _import(
    session: Session, rows: list[Row], coder: Any, actor: str, *, dry_run: bool
) -> dict[str, Any]:
    items = [request_of(row) for row in rows]
    results = _book(session, items, coder, actor, dry_run=dry_run)
    answered = [
        {"row": row.number, **_result_json(result, key="column")}
        for row, result in zip(rows, results, strict=True)
    ]
    counts = {s: 0 for s in ("created", "updated", "unchanged", "error")}
    for result in results:
        counts[result.status] += 1
    return {"dry_run": dry_run, "rows": answered, "counts": counts}


@router.post(
    "/v1/requests/import",
    response_model=ImportOut,
    responses={
        413: {"description": f"A file over the body limit, or more than {MAX_ROWS} rows."},
        422: {"description": "The file is unreadable or lacks a column: nothing is stored."},
    },
)
async def import_requests(
    session: SessionDep,
    user: DispatcherUser,
    coder: GeocoderDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8, with or without BOM) or XLSX.")],
    dry_run: Annotated[bool, Query(description="Check every row and store nothing.")] = False,
) -> dict[str, Any]:
    """Import a hotline's spreadsheet of requests, one a row (DESIGN §8).

    Columns in any order, with English names (``id``, ``kind``, ``dossier``, ``date``,
    ``window_from``, ``window_to``, ``address`` or ``lat``+``lon``, ``handoff_site``,
    ``destination_site``, ``origin_site``, ``ready_at``, ``due``, ``service_min``, ``size``,
    ``citizen_name``, ``citizen_phone``, ``citizen_id``, ``procedure``) or Vietnamese headers
    (``Mã yêu cầu``, ``Loại``, ``Mã hồ sơ``, ``Ngày``, ``Từ giờ``, ``Đến giờ``, ``Địa chỉ``,
    ``Vĩ độ``, ``Kinh độ``, ``Điểm bàn giao``, ``Nơi nhận hồ sơ``, ``Nơi lấy kết quả``,
    ``Giờ có kết quả``, ``Hạn trả``, ``Số phút phục vụ``, ``Số kiện``, ``Họ tên``,
    ``Số điện thoại``, ``Số CCCD``, ``Thủ tục``), with or without diacritics. ``Loại`` may say
    ``nhận``/``trả``. Every row is answered; a row with an error is not stored, the others are.
    """
    data = await file.read()
    rows = await run_in_threadpool(read_rows, data, file.filename)
    return await run_in_threadpool(_import, session, rows, coder, user.name, dry_run=dry_run)


@router.get("/v1/requests", response_model=RequestListOut)
def get_requests(
    session: SessionDep,
    _user: StaffUser,
    date: Annotated[str | None, Query(pattern=DATE_PATTERN, examples=["2026-11-23"])] = None,
    status: Annotated[Status | None, Query(examples=["open"])] = None,
) -> RequestListOut:
    """List the book's requests of a day and/or a status, by day then id.

    Staff, dispatchers and administrators may see the citizen's name, phone and address (the
    citizen ID number is never stored: ``has_id_number`` says whether one was given); other
    roles may not list requests at all.
    """
    rows = list_requests(session=session, date=date, status=status)
    data = [request_json(row, personal=True) for row in rows]
    return RequestListOut(data=data, count=len(data))


@router.post(
    "/v1/requests/{request_id}/cancel",
    response_model=None,
    responses={404: {"description": "No such request."}, 422: {"description": "Not open."}},
)
def cancel(request_id: str, session: SessionDep, _user: DispatcherUser) -> dict[str, Any]:
    """Cancel an open request (cancelling it again changes nothing); answer the request."""
    row = cancel_request(session=session, request_id=request_id)
    return request_json(row, personal=True)


@router.put("/v1/roster", response_model=None, responses={200: {"model": RosterOut}})
def replace_roster(body: RosterIn, session: SessionDep, user: DispatcherUser) -> dict[str, Any]:
    """Replace the stored sites, shuttle timetable and couriers (each list in §4's shapes).

    The roster is checked as the planner would check it (known sites, shifts, breaks), so a
    roster that is stored can plan a day.
    """
    roster = checked_roster(body)
    put_roster(session=session, roster=roster, actor=user.name)
    return _stored_roster(session)


def _stored_roster(session: Session) -> dict[str, Any]:
    roster = get_roster(session=session)
    if roster is None:
        return {"sites": [], "shuttles": [], "couriers": [], "updated_at": None}
    return roster


@router.get("/v1/roster", response_model=None, responses={200: {"model": RosterOut}})
def read_roster(session: SessionDep, _user: StaffUser) -> dict[str, Any]:
    """Return the stored roster (``updated_at`` is ``null`` and the lists empty when none)."""
    return _stored_roster(session)


@router.post(
    "/v1/days/{date}/plan",
    status_code=201,
    response_model=None,
    responses={
        201: {
            "model": PlanOut,
            "description": 'A draft plan of §4 (``"state": "draft"``); publish it to use it.',
        },
        422: {"description": "No roster stored, or no open request that day."},
        503: {"description": "The solver crashed or overran its hard time limit."},
    },
)
async def plan_day_from_book(
    *,
    date: Annotated[str, Path(pattern=DATE_PATTERN, examples=["2026-11-23"])],
    body: Annotated[DayPlanIn | None, Body(examples=[{"options": {"time_limit_s": 10}}])] = None,
    session: SessionDep,
    user: DispatcherUser,
    settings: SettingsDep,
    solver: SolverDep,
    coder: GeocoderDep,
) -> JSONResponse:
    """Plan a day from its open requests and the stored roster, as a draft to review.

    When the day already has a published plan, the requests it planned are planned again with
    the open ones, so the draft is the whole day. The draft registers nothing: couriers, staff
    and citizens see it only once it is published (``POST /v1/plans/{id}/publish``), and the
    requests stay ``open`` until then (on a route then: ``planned`` with the plan's id).

    Earlier days whose work has ended are closed first (carry-over, idempotent): their undone
    requests become open requests of their next working day, and those carried here with a
    due date near are planned first (``"priority": "high"``).
    """
    check_plan_date(date)
    await run_in_threadpool(carry_over_before, session, date)
    request = await run_in_threadpool(_day_draft_request, session, date)
    await run_in_threadpool(mark_priorities, session=session, request=request, day=date)
    if body is not None and body.options is not None:
        request["options"] = body.options.model_dump(mode="json", exclude_none=True)
    valid = PlanRequestIn.model_validate(request).model_dump(mode="json", exclude_unset=True)
    stored = await plans.solve_and_store(
        valid,
        session=session,
        user=user,
        settings=settings,
        solver=solver,
        coder=coder,
        draft=True,
    )
    return plans.plan_answer(stored)


def _day_draft_request(session: Session, date: str) -> dict[str, Any]:
    """The day's open requests, and those the day's published plan planned, as one request."""
    request, ids = day_request(session=session, date=date)
    current = published_plan(session=session, date=date)
    if current is not None:
        jobs, codes = request["jobs"], {job["dossier"]: job["id"] for job in request["jobs"]}
        for job in planned_jobs(session=session, date=date, plan_id=current.id):
            other = codes.get(job["dossier"])
            if other is not None:
                msg = (
                    f"requests {job['id']} (planned) and {other} (open) are both for dossier "
                    f"{job['dossier']} on {date}: cancel one before planning the day again"
                )
                raise InvalidInput(msg)
            jobs.append(job)
            ids.append(str(job["id"]))
    if len(ids) > MAX_ENTRIES["jobs"]:
        msg = f"date: {len(ids):,} requests, over {MAX_ENTRIES['jobs']:,} in one plan"
        raise InvalidInput(msg)
    return request
