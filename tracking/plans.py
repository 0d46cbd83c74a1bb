"""Stored plans, the dossiers they register, and each courier's stop list.

:func:`store_plan` keeps a solved plan with its request and, unless it is a draft (see
:mod:`tracking.drafts`), registers what it carries: sites,
couriers, and one dossier per job (direction, procedure, due date, assigned courier and job),
with the citizen's contact data in its own protected table. The stored request keeps no
citizen data (no ``citizen`` object, no ``address``): those live only in the contact table.
A later plan for the same dossiers (a re-plan) takes over their assignment.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from routing.plan import Plan, PlanError, plan_from_json
from tracking.db import session_engine, write_lock
from tracking.errors import InvalidInput, NotFound
from tracking.hashing import digits_of, new_salt, secret_hash
from tracking.lifecycle import Direction, DossierState
from tracking.models import CitizenContact, Courier, Dossier, Site, StoredPlan, utcnow
from tracking.progress import route_progress
from tracking.promises import record_promises

PERSONAL_JOB_KEYS = ("citizen", "address")
"""Job keys holding personal data, kept in the contact table and removed from stored requests."""

NEWEST_FIRST = (col(StoredPlan.created_at).desc(), col(StoredPlan.id).desc())
"""Stored plans newest first (the id breaks a tie between plans stored in the same instant)."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _need(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    value = mapping.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        msg = f"{where}.{key}: missing"
        raise InvalidInput(msg)
    return value


def check_date(value: Any, *, where: str = "date") -> str:
    """Return ``value`` if it is a ``YYYY-MM-DD`` date, else raise :class:`InvalidInput`."""
    if not isinstance(value, str) or not _DATE.match(value):
        msg = f"{where}: expected a date as YYYY-MM-DD"
        raise InvalidInput(msg)
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        msg = f"{where}: not a calendar date"
        raise InvalidInput(msg) from None
    return value


def public_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a plan request without the citizens' personal data."""
    clean = copy.deepcopy(dict(request))
    jobs = clean.get("jobs")
    if isinstance(jobs, list):
        for job in jobs:
            if isinstance(job, dict):
                for key in PERSONAL_JOB_KEYS:
                    job.pop(key, None)
    return clean


def _typed_plan(plan: Plan | Mapping[str, Any], request: Mapping[str, Any]) -> Plan:
    """The typed plan of a plan given as JSON (its date taken from the request if absent)."""
    if isinstance(plan, Plan):
        return plan
    _need(plan, "plan_id", "plan")
    check_date(plan.get("date") or request.get("date"), where="plan.date")
    try:
        return plan_from_json({"date": request.get("date")} | dict(plan))
    except PlanError as exc:
        raise InvalidInput(str(exc)) from None


def store_plan(
    *,
    session: Session,
    request: Mapping[str, Any],
    plan: Plan | Mapping[str, Any],
    created_by: str,
    state: str = "published",
    base_plan_id: str | None = None,
) -> StoredPlan:
    """Store a solved plan and, unless it is a draft, register the sites, couriers and dossiers
    it carries.

    A draft registers nothing that couriers, staff or the public see (no dossier assignment, no
    promise, no courier list): :func:`tracking.drafts.publish_plan` registers it later.

    Parameters
    ----------
    session
        The database session; everything is committed in one transaction before returning.
    request
        The plan request (DESIGN §4 with the team's extensions: job ``procedure``,
        ``address``, ``citizen`` {name, phone, id_number}).
    plan
        The plan answering it (typed, or its JSON: ``plan_id``, ``date``, ``status``,
        ``routes``, ``unassigned``); stored as :func:`routing.plan.plan_to_json` writes it.
    created_by
        The user name of the dispatcher who planned it.
    state
        ``published`` (registered at once, as every plan was before drafts) or ``draft``.
    base_plan_id
        For a draft: the day's published plan it was made against (``None``: none).

    Returns
    -------
    StoredPlan
        The stored plan (its request without citizen data).

    Raises
    ------
    InvalidInput
        If the plan has no id or date or is malformed (the message names the field), the id is
        taken, a job has no dossier code, or a dossier code is already registered in the other
        direction.
    """
    if state not in ("published", "draft"):
        msg = "state: a plan is stored as published or as a draft"
        raise InvalidInput(msg)
    typed = _typed_plan(plan, request)
    plan_id, date = typed.plan_id, typed.date.isoformat()
    jobs = request.get("jobs")
    if not isinstance(jobs, list):
        msg = "request.jobs: expected a list of jobs"
        raise InvalidInput(msg)
    assigned = typed.job_couriers()
    now = utcnow()
    session.commit()
    with write_lock(session_engine(session)):
        try:
            if session.get(StoredPlan, str(plan_id)) is not None:
                msg = f"plan.plan_id: a plan {plan_id!r} is already stored"
                raise InvalidInput(msg)
            stored = StoredPlan(
                id=str(plan_id),
                date=date,
                status=typed.status,
                state=state,
                base_plan_id=base_plan_id if state == "draft" else None,
                request_json=public_request(request),
                plan_json=typed.to_json(),
                created_by=created_by,
                created_at=now,
            )
            if state == "published":
                stored.published_by, stored.published_at = created_by, now
            session.add(stored)
            session.flush()
            if state == "published":
                register_plan(session, stored=stored, jobs=jobs, assigned=assigned, now=now)
            else:
                _check_jobs(jobs)  # a draft that could never be published is refused now
            session.commit()
        except BaseException:
            session.rollback()
            raise
    session.refresh(stored)
    return stored


def register_plan(
    session: Session,
    *,
    stored: StoredPlan,
    jobs: list[Any],
    assigned: Mapping[str, str],
    now: datetime,
) -> None:
    """Register what a published plan carries (no commit): its sites, couriers, dossiers (with
    the citizens' contacts found in ``jobs``) and promised dates.

    ``jobs`` are the request's jobs with any personal data; ``assigned`` maps job → courier.
    """
    request = stored.request_json
    _register_sites(session, request, now)
    _register_couriers(session, request, now)
    _register_jobs(session, jobs, stored=stored, assigned=assigned, now=now)
    record_promises(session=session, jobs=jobs, day=stored.date)


def _check_jobs(jobs: list[Any]) -> None:
    """Refuse what registering would refuse: a job with no id, kind or dossier, a dossier twice."""
    seen: dict[str, int] = {}
    for i, job in enumerate(jobs):
        where = f"jobs[{i}]"
        if not isinstance(job, Mapping):
            msg = f"{where}: expected an object"
            raise InvalidInput(msg)
        _need(job, "id", where)
        if str(_need(job, "kind", where)) not in ("pickup", "return"):
            msg = f"{where}.kind: expected 'pickup' or 'return'"
            raise InvalidInput(msg)
        code = str(_need(job, "dossier", where))
        if code in seen:
            msg = f"{where}.dossier: {code} is also the dossier of jobs[{seen[code]}]"
            raise InvalidInput(msg)
        seen[code] = i


def _register_sites(session: Session, request: Mapping[str, Any], now: datetime) -> None:
    for i, site in enumerate(request.get("sites") or []):
        where = f"sites[{i}]"
        site_id = str(_need(site, "id", where))
        try:
            lat, lon = float(site["lat"]), float(site["lon"])
        except (KeyError, TypeError, ValueError):
            msg = f"{where}: lat and lon must be numbers"
            raise InvalidInput(msg) from None
        row = session.get(Site, site_id) or Site(id=site_id, lat=lat, lon=lon, updated_at=now)
        row.kind, row.name = site.get("kind"), site.get("name")
        row.lat, row.lon, row.updated_at = lat, lon, now
        session.add(row)


def _register_couriers(session: Session, request: Mapping[str, Any], now: datetime) -> None:
    for i, courier in enumerate(request.get("couriers") or []):
        courier_id = str(_need(courier, "id", f"couriers[{i}]"))
        row = session.get(Courier, courier_id) or Courier(id=courier_id, created_at=now)
        row.mode = courier.get("mode")
        session.add(row)


def _register_jobs(
    session: Session,
    jobs: list[Any],
    *,
    stored: StoredPlan,
    assigned: Mapping[str, str],
    now: datetime,
) -> None:
    codes = [str(j["dossier"]) for j in jobs if isinstance(j, Mapping) and j.get("dossier")]
    known: dict[str, Dossier] = {}
    for chunk in range(0, len(codes), 500):
        # Lock in id order, as ingestion does, so the two never deadlock on PostgreSQL.
        stmt = (
            select(Dossier)
            .where(col(Dossier.code).in_(codes[chunk : chunk + 500]))
            .order_by(col(Dossier.id))
            .with_for_update()
        )
        known.update((d.code, d) for d in session.exec(stmt))
    seen: dict[str, int] = {}
    contacts_needed: list[tuple[Dossier, Any, Any, str]] = []
    for i, job in enumerate(jobs):
        where = f"jobs[{i}]"
        if not isinstance(job, Mapping):
            msg = f"{where}: expected an object"
            raise InvalidInput(msg)
        code = str(_need(job, "dossier", where))
        if code in seen:
            msg = f"{where}.dossier: {code} is also the dossier of jobs[{seen[code]}]"
            raise InvalidInput(msg)
        seen[code] = i
        dossier = _register_job(session, job, where=where, known=known.get(code), now=now)
        known[code] = dossier
        dossier.plan_id = stored.id
        dossier.job_id = str(job["id"])
        dossier.courier_id = assigned.get(dossier.job_id)
        if job.get("citizen") is not None or job.get("address") is not None:
            contacts_needed.append((dossier, job.get("citizen"), job.get("address"), where))
    session.flush()
    ids = [d.id for d, *_ in contacts_needed]
    contacts: dict[int, CitizenContact] = {}
    for chunk in range(0, len(ids), 500):
        found = session.exec(
            select(CitizenContact).where(
                col(CitizenContact.dossier_id).in_(ids[chunk : chunk + 500])
            )
        )
        contacts.update((c.dossier_id, c) for c in found)
    for dossier, citizen, address, where in contacts_needed:
        assert dossier.id is not None
        contact = contacts.get(dossier.id) or CitizenContact(dossier_id=dossier.id, salt=new_salt())
        _register_citizen(session, contact, citizen, address, where)


def _register_job(
    session: Session, job: Mapping[str, Any], *, where: str, known: Dossier | None, now: datetime
) -> Dossier:
    _need(job, "id", where)
    kind = str(_need(job, "kind", where))
    if kind not in ("pickup", "return"):
        msg = f"{where}.kind: expected 'pickup' or 'return', got {kind!r}"
        raise InvalidInput(msg)
    direction = Direction(kind)
    dossier = known
    if dossier is None:
        dossier = Dossier(
            code=str(job["dossier"]),
            direction=direction.value,
            status=DossierState.initial(direction).status.value,
            created_at=now,
            updated_at=now,
        )
    elif dossier.direction != direction.value:
        msg = (
            f"{where}.dossier: {dossier.code} is already registered as a "
            f"{dossier.direction} dossier"
        )
        raise InvalidInput(msg)
    procedure = job.get("procedure")
    if procedure is not None:
        dossier.procedure = str(procedure)[:200]
    due = job.get("due")
    if isinstance(due, str) and due:
        dossier.due_date = due[:10]
    dossier.updated_at = now
    session.add(dossier)
    return dossier


def _register_citizen(
    session: Session, contact: CitizenContact, citizen: Any, address: Any, where: str
) -> None:
    if citizen is not None and not isinstance(citizen, Mapping):
        msg = f"{where}.citizen: expected an object with name, phone, id_number"
        raise InvalidInput(msg)
    citizen = citizen or {}
    if citizen.get("name") is not None:
        contact.name = str(citizen["name"])[:200]
    if address is not None:
        contact.address = str(address)[:500]
    phone = citizen.get("phone")
    if phone is not None:
        contact.phone = str(phone)[:32]
        digits = digits_of(str(phone))
        if len(digits) < 4:
            msg = f"{where}.citizen.phone: needs at least 4 digits"
            raise InvalidInput(msg)
        contact.phone_last4_hash = secret_hash(digits[-4:], contact.salt, purpose="phone_last4")
    id_number = citizen.get("id_number")
    if id_number is not None:
        digits = digits_of(str(id_number))
        if len(digits) < 9:
            msg = f"{where}.citizen.id_number: a citizen ID has 9 or 12 digits"
            raise InvalidInput(msg)
        contact.id_hash = secret_hash(digits, contact.salt, purpose="id")
        contact.id_last4_hash = secret_hash(digits[-4:], contact.salt, purpose="id_last4")
    session.add(contact)


def get_plan(*, session: Session, plan_id: str) -> StoredPlan:
    """Return a stored plan.

    Raises
    ------
    NotFound
        If no plan has this id.
    """
    stored = session.get(StoredPlan, plan_id)
    if stored is None:
        msg = "plan_id: no plan with this id"
        raise NotFound(msg)
    return stored


def list_plans(*, session: Session, date: str) -> list[StoredPlan]:
    """Return the plans stored for a day, newest first.

    Raises
    ------
    InvalidInput
        If ``date`` is not ``YYYY-MM-DD``.
    """
    check_date(date)
    stmt = select(StoredPlan).where(StoredPlan.date == date).order_by(*NEWEST_FIRST)
    return list(session.exec(stmt))


def published_plan(*, session: Session, date: str) -> StoredPlan | None:
    """Return the day's published plan (the newest, if several districts published one each).

    Raises
    ------
    InvalidInput
        If ``date`` is not ``YYYY-MM-DD``.
    """
    check_date(date)
    stmt = (
        select(StoredPlan)
        .where(StoredPlan.date == date, StoredPlan.state == "published")
        .order_by(*NEWEST_FIRST)
        .limit(1)
    )
    return session.exec(stmt).first()


def _has_route(stored: StoredPlan, courier_id: str) -> bool:
    return stored.plan().route_of(courier_id) is not None


def plan_for_courier(*, session: Session, courier_id: str, date: str) -> StoredPlan | None:
    """Return the newest published plan of the day with a route for this courier, if any.

    Drafts and superseded plans are never a courier's. The plan that carries the courier's
    dossiers is found through the dossiers table; only published plans stored after it
    (re-plans that may give the courier a route without jobs) are read.
    """
    check_date(date)
    published = StoredPlan.state == "published"
    via_dossiers = session.exec(
        select(StoredPlan)
        .join(Dossier, col(Dossier.plan_id) == col(StoredPlan.id))
        .where(Dossier.courier_id == courier_id, StoredPlan.date == date, published)
        .order_by(*NEWEST_FIRST)
        .limit(1)
    ).first()
    later = select(StoredPlan).where(StoredPlan.date == date, published).order_by(*NEWEST_FIRST)
    if via_dossiers is not None:
        later = later.where(col(StoredPlan.created_at) > via_dossiers.created_at)
    for stored in session.exec(later):
        if _has_route(stored, courier_id):
            return stored
    if via_dossiers is not None and _has_route(via_dossiers, courier_id):
        return via_dossiers
    return None


def courier_stops(
    *,
    session: Session,
    courier_id: str,
    date: str,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Return a courier's ordered stops for a day, with what to do and when, for its phone.

    Each stop is the plan's stop (``type``, ``site``/``job``, ``arrive``, ``start``,
    ``depart``, ``load`` …) plus ``index``, ``state`` (``done``, ``failed``, ``pending``,
    ``behind``) and ``expected_arrive``/``expected_start`` for pending stops (see
    :mod:`tracking.eta`). A job stop adds ``kind``, ``dossier``, ``procedure``, ``window``,
    ``address`` and ``citizen`` ({name, phone}: the contact the courier needs; no ID number).
    A site stop adds ``site_name``, ``collect`` and ``hand_over`` (lists of {job, dossier}).

    Parameters
    ----------
    session
        The database session.
    courier_id
        The courier (for a courier user: its own name; access is checked by the caller).
    date
        The day, ``YYYY-MM-DD``.
    now
        The current time for expected times; defaults to the clock.

    Returns
    -------
    list of dict
        Empty if the courier has no route that day.

    Raises
    ------
    InvalidInput
        If ``date`` is malformed.
    """
    check_date(date)
    now = utcnow() if now is None else now
    stored = plan_for_courier(session=session, courier_id=courier_id, date=date)
    if stored is None:
        return []
    progress = route_progress(session=session, plan=stored, courier_id=courier_id, now=now)
    return progress.stop_list(session=session)
