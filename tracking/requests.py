"""The request book (DESIGN §8): requests kept as records, and the stored roster.

A request is a job of §4 with its day (``date``), an optional ``address`` placed offline by the
gazetteer, the citizen, the procedure, the due date and a status (:data:`STATUSES`). Booking is
idempotent by id: the same content again is ``unchanged``, other content ``updated`` while the
request is still open, and refused once it is not. Personal data is kept as the contact table
keeps it: name, phone and address in their own columns, the citizen ID number only as salted
hashes. A day is planned from the open requests of that day and the stored roster
(:func:`day_request`).

Fields are named by the flat names of the import's columns (``window_from``, ``citizen_phone``),
so an error points at a spreadsheet column and at a JSON field alike.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date as calendar_date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from tracking.db import session_engine, write_lock
from tracking.errors import InvalidInput, NotFound
from tracking.hashing import digits_of, new_salt, secret_hash
from tracking.models import BookedRequest, CitizenContact, Dossier, RosterPart, utcnow

STATUSES = ("open", "planned", "done", "failed", "cancelled", "carried")
ROSTER_PARTS = ("sites", "shuttles", "couriers")
PERSONAL_KEYS = ("address", "citizen")
"""Keys of a submitted request that hold personal data (never in ``job_json``)."""
_BOOK_KEYS = ("id", "date", "kind", "dossier", "procedure", "due", *PERSONAL_KEYS)
_RECORD_KEYS = ("status", "plan_id", "geocoded", "carried_from", "carried_to")
"""Keys the book itself writes: never taken from what a client sends."""
_CHUNK = 500
WRITE_ATTEMPTS = 2
"""Tries to store a batch when a concurrent import creates the same ids first."""
HASH_THREADS = 2
"""Threads hashing the citizen ID numbers of one batch."""


@dataclass
class BookResult:
    """What booking one request did: ``created``, ``updated``, ``unchanged`` or ``error``.

    ``errors`` are ``(field, message)`` pairs; ``duplicate_of`` names the other requests of the
    same day for the same dossier (a dossier booked twice).
    """

    id: str | None
    status: str
    errors: list[tuple[str, str]] = field(default_factory=list)
    duplicate_of: list[str] = field(default_factory=list)


def _check_day(value: Any, name: str, errors: list[tuple[str, str]]) -> None:
    """A calendar date ``YYYY-MM-DD`` (a due date may also be an ISO datetime)."""
    text = str(value)
    try:
        if len(text) == 10 or name == "date":
            calendar_date.fromisoformat(text)
        elif len(text) <= 40:
            datetime.fromisoformat(text)
        else:
            raise ValueError(text)
    except ValueError:
        errors.append((name, "expected a calendar date as YYYY-MM-DD"))


def check_request(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return what is wrong with one request whose shape is already checked (empty: nothing).

    The meaning is checked here, before anything is stored: a real day, a place (``lat`` and
    ``lon``, or an ``address``), the sites a pickup or a return needs. (Times of day are read
    by the planner's own reader in the API, which may import it.)
    """
    errors: list[tuple[str, str]] = []
    _check_day(item.get("date"), "date", errors)
    if item.get("due"):
        _check_day(item["due"], "due", errors)
    has_lat, has_lon = item.get("lat") is not None, item.get("lon") is not None
    if has_lat != has_lon:
        errors.append(("lon" if has_lat else "lat", "give both lat and lon, or neither"))
    elif not has_lat and not str(item.get("address") or "").strip():
        errors.append(("address", "give an address, or lat and lon"))
    if item.get("kind") == "pickup" and not item.get("handoff_site"):
        errors.append(("handoff_site", "a pickup needs the site where it is handed over"))
    if item.get("kind") == "return" and not item.get("origin_site"):
        errors.append(("origin_site", "a return needs the site where the result is collected"))
    return errors


def _content_hash(item: Mapping[str, Any], salt: str) -> str:
    """A keyed hash of everything submitted: the ID number is in it, so it is salted."""
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(salt.encode(), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def place_address(coder: Any, address: str) -> tuple[float, float, dict[str, Any]] | None:
    """Where a booked request's address is placed, and how sure that is.

    Parameters
    ----------
    coder
        The geocoder (geopy-compatible; ``None``: no geocoder, nothing is placed).
    address
        The address as the citizen gave it.

    Returns
    -------
    ``(lat, lon, geocoded)``, degrees rounded to 6 places and ``{"precision", "name"}`` (the
    ward or district whose point it is), or ``None`` when nothing of the service area matches.
    """
    location = coder.geocode(address) if coder is not None else None
    if location is None:
        return None
    raw = getattr(location, "raw", None) or {}
    sure = {"precision": raw.get("precision"), "name": raw.get("name")}
    return round(location.latitude, 6), round(location.longitude, 6), sure


class _Places:
    """Addresses placed by the geocoder, each looked up once per batch."""

    def __init__(self, coder: Any) -> None:
        self.coder = coder
        self.found: dict[str, tuple[float, float, dict[str, Any]] | None] = {}

    def place(self, address: str) -> tuple[float, float, dict[str, Any]] | None:
        if address not in self.found:
            self.found[address] = place_address(self.coder, address)
        return self.found[address]


def _fields(
    item: Mapping[str, Any], salt: str, places: _Places
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The record's fields for a checked request, or the errors found while placing it."""
    skip = (*_BOOK_KEYS, *_RECORD_KEYS)
    job = {k: v for k, v in item.items() if k not in skip and v is not None}
    address = str(item.get("address") or "").strip() or None
    geocoded = None
    if job.get("lat") is None and address is not None:
        placed = places.place(address)
        if placed is None:
            # The address itself is not repeated: it is personal data.
            msg = "no commune, ward or district of the service area matches this address"
            return {}, [("address", msg)]
        job["lat"], job["lon"], geocoded = placed
    citizen = item.get("citizen") or {}
    phone = citizen.get("phone")
    if phone is not None and len(digits_of(str(phone))) < 4:
        return {}, [("citizen_phone", "a phone number needs at least 4 digits")]
    id_hash = id_last4_hash = None
    if citizen.get("id_number") is not None:
        digits = digits_of(str(citizen["id_number"]))
        if len(digits) not in (9, 12):
            return {}, [("citizen_id", "a citizen ID has 9 or 12 digits")]
        id_hash = secret_hash(digits, salt, purpose="id")
        id_last4_hash = secret_hash(digits[-4:], salt, purpose="id_last4")
    return {
        "date": str(item["date"]), "kind": str(item["kind"]), "dossier": str(item["dossier"]),
        "procedure": item.get("procedure"), "due": item.get("due"), "job_json": job,
        "geocoded_json": geocoded, "address": address, "citizen_name": citizen.get("name"),
        "citizen_phone": phone, "id_hash": id_hash, "id_last4_hash": id_last4_hash,
        "content_hash": _content_hash(item, salt), "updated_at": utcnow(),
    }, []  # fmt: skip


def _existing(session: Session, ids: Sequence[str]) -> dict[str, BookedRequest]:
    found: dict[str, BookedRequest] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = select(BookedRequest).where(col(BookedRequest.id).in_(ids[start : start + _CHUNK]))
        found.update((r.id, r) for r in session.exec(stmt))
    return found


@dataclass
class _Draft:
    """A checked request with its record's fields worked out under ``salt``, or its errors."""

    item: Mapping[str, Any]
    salt: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)


def _same(row: BookedRequest, item: Mapping[str, Any]) -> bool:
    return hmac.compare_digest(row.content_hash, _content_hash(item, row.salt))


def _draft(item: Mapping[str, Any], known: Mapping[str, BookedRequest], places: _Places) -> _Draft:
    """Check and place a request and hash its citizen ID (the slow part: outside any lock)."""
    errors = check_request(item)
    if errors:
        return _Draft(item, errors=errors)
    row = known.get(str(item["id"]))
    if row is not None and _same(row, item):
        return _Draft(item)  # unchanged: nothing to work out
    salt = row.salt if row is not None else new_salt()
    fields, errors = _fields(item, salt, places)
    return _Draft(item, salt, fields, errors)


def _apply(
    draft: _Draft, rows: dict[str, BookedRequest], places: _Places, actor: str
) -> tuple[BookResult, BookedRequest | None]:
    """Book one drafted request against the records as they are now (under the write lock)."""
    rid = str(draft.item["id"])
    if draft.errors:
        return BookResult(rid, "error", draft.errors), None
    row = rows.get(rid)
    if row is not None and _same(row, draft.item):
        return BookResult(rid, "unchanged"), None
    if row is not None and row.status != "open":
        msg = f"request {rid} is {row.status}: only an open request can be changed"
        return BookResult(rid, "error", [("id", msg)]), None
    fields, salt = draft.fields, draft.salt
    if row is not None and row.salt != salt:  # created meanwhile, or earlier in this batch
        salt = row.salt
        fields, problems = _fields(draft.item, salt, places)
        if problems:
            return BookResult(rid, "error", problems), None
    if row is None:
        assert salt is not None
        row = BookedRequest(
            id=rid, status="open", salt=salt, created_by=actor, created_at=utcnow(), **fields
        )
        status = "created"
    else:
        for name, value in fields.items():
            setattr(row, name, value)
        status = "updated"
    rows[rid] = row
    return BookResult(rid, status), row


def _flag_duplicates(session: Session, results: Sequence[BookResult]) -> None:
    """Name, on each booked result, the other live requests of its day for the same dossier."""
    booked = {r.id for r in results if r.status != "error" and r.id is not None}
    rows = _existing(session, sorted(booked))
    dossiers = sorted({row.dossier for row in rows.values()})
    same: dict[tuple[str, str], list[str]] = defaultdict(list)
    for start in range(0, len(dossiers), _CHUNK):
        stmt = select(BookedRequest.id, BookedRequest.dossier, BookedRequest.date).where(
            col(BookedRequest.dossier).in_(dossiers[start : start + _CHUNK]),
            col(BookedRequest.status) != "cancelled",
        )
        for rid, dossier, day in session.exec(stmt):
            same[(dossier, day)].append(rid)
    for result in results:
        row = rows.get(result.id or "")
        if row is not None:
            others = same[(row.dossier, row.date)]
            result.duplicate_of = sorted(r for r in others if r != row.id)


def book_requests(
    *,
    session: Session,
    items: Sequence[Mapping[str, Any]],
    coder: Any,
    actor: str,
    dry_run: bool = False,
) -> list[BookResult]:
    """Book requests whose shape is already checked; answer one result per item, in order.

    Parameters
    ----------
    session
        A database session; committed here (rolled back instead on a dry run).
    items
        Requests as JSON objects: a job of §4 with ``date`` and optionally ``address``,
        ``citizen`` (``name``, ``phone``, ``id_number``), ``procedure``, ``due``. An item whose
        ``id`` is ``None`` was refused earlier and is skipped (give its result yourself).
    coder
        The geocoder (geopy-compatible) that places requests given by address.
    actor
        The user booking them (kept on new records).
    dry_run
        Check and compare everything, store nothing.
    """
    ids = sorted({str(item["id"]) for item in items})
    places = _Places(coder)
    known = _existing(session, ids)
    for item in items:  # place every address first: the threads below only read the cache
        if item.get("lat") is None and str(item.get("address") or "").strip():
            places.place(str(item["address"]).strip())
    # Hashing ID numbers (PBKDF2) is most of a big import's time and releases the interpreter
    # lock: spread it over the cores.
    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
        drafts = list(pool.map(lambda item: _draft(item, known, places), items))
    session.rollback()  # end the reading transaction: the writing one sees what is now stored
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return _write(session, drafts, ids, places, actor, dry_run=dry_run)
        except sa.exc.IntegrityError:
            # Another import created one of these ids first (PostgreSQL): its record now
            # exists, and the next attempt compares with it.
            session.rollback()
            if attempt == WRITE_ATTEMPTS:
                raise
    raise AssertionError  # unreachable: the loop returns or raises


def _write(
    session: Session,
    drafts: Sequence[_Draft],
    ids: Sequence[str],
    places: _Places,
    actor: str,
    *,
    dry_run: bool,
) -> list[BookResult]:
    """Store the drafts in one transaction, holding the write lock only for this part."""
    with write_lock(session_engine(session)):
        rows = _existing(session, ids)
        results: list[BookResult] = []
        for draft in drafts:
            result, row = _apply(draft, rows, places, actor)
            if row is not None:
                session.add(row)
            results.append(result)
        session.flush()
        _flag_duplicates(session, results)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return results


def request_json(row: BookedRequest, *, personal: bool) -> dict[str, Any]:
    """One request as the API shows it; the citizen and the address only when ``personal``."""
    out: dict[str, Any] = {
        **row.job_json,
        "id": row.id,
        "date": row.date,
        "status": row.status,
        "kind": row.kind,
        "dossier": row.dossier,
        "procedure": row.procedure,
        "due": row.due,
        "geocoded": row.geocoded_json,
        "plan_id": row.plan_id,
        "carried_from": row.carried_from,
        "carried_to": row.carried_to,
    }
    if personal:
        out["address"] = row.address
        out["citizen"] = {
            "name": row.citizen_name,
            "phone": row.citizen_phone,
            "has_id_number": row.id_hash is not None,
        }
    return out


def list_requests(
    *, session: Session, date: str | None = None, status: str | None = None
) -> list[BookedRequest]:
    """Return the requests of a day and/or a status, by day then id."""
    stmt = select(BookedRequest)
    if date is not None:
        stmt = stmt.where(BookedRequest.date == date)
    if status is not None:
        stmt = stmt.where(BookedRequest.status == status)
    return list(session.exec(stmt.order_by(col(BookedRequest.date), col(BookedRequest.id))))


def put_roster(*, session: Session, roster: Mapping[str, Sequence[Any]], actor: str) -> None:
    """Replace the stored sites, shuttles and couriers (each a list in §4's shapes)."""
    with write_lock(session_engine(session)):
        now = utcnow()
        for part in ROSTER_PARTS:
            row = session.get(RosterPart, part) or RosterPart(part=part, items=[], updated_by=actor)
            row.items, row.updated_by, row.updated_at = list(roster.get(part) or []), actor, now
            session.add(row)
        session.commit()


def get_roster(*, session: Session) -> dict[str, Any] | None:
    """Return the stored roster ``{"sites", "shuttles", "couriers", "updated_at"}``, or ``None``."""
    rows = {r.part: r for r in session.exec(select(RosterPart))}
    if not rows:
        return None
    roster: dict[str, Any] = {
        part: rows[part].items if part in rows else [] for part in ROSTER_PARTS
    }
    roster["updated_at"] = max(r.updated_at for r in rows.values()).isoformat()
    return roster


def _job_of(row: BookedRequest) -> dict[str, Any]:
    job: dict[str, Any] = {"id": row.id, "kind": row.kind, "dossier": row.dossier, **row.job_json}
    for key, value in (("procedure", row.procedure), ("due", row.due), ("address", row.address)):
        if value is not None:
            job[key] = value
    if row.geocoded_json is not None:
        job["geocoded"] = row.geocoded_json
    citizen = {k: v for k, v in (("name", row.citizen_name), ("phone", row.citizen_phone)) if v}
    if citizen:
        job["citizen"] = citizen
    return job


def day_request(*, session: Session, date: str) -> tuple[dict[str, Any], list[str]]:
    """Build the plan request of §4 for a day from its open requests and the stored roster.

    Returns
    -------
    tuple
        The plan request (no ``options``) and the ids of the requests it plans.

    Raises
    ------
    InvalidInput
        When no roster is stored or the day has no open request.
    """
    roster = get_roster(session=session)
    if roster is None or not roster["couriers"] or not roster["sites"]:
        msg = "roster: no sites or couriers are stored; send them first with PUT /v1/roster"
        raise InvalidInput(msg)
    rows = list_requests(session=session, date=date, status="open")
    if not rows:
        msg = f"date: no open request is booked for {date}; book them with POST /v1/requests"
        raise InvalidInput(msg)
    first: dict[str, str] = {}
    for row in rows:
        other = first.setdefault(row.dossier, row.id)
        if other != row.id:
            msg = (
                f"requests {other} and {row.id} are both open on {date} for dossier "
                f"{row.dossier}: cancel one (POST /v1/requests/ID/cancel) before planning the day"
            )
            raise InvalidInput(msg)
    request = {
        "date": date,
        "sites": roster["sites"],
        "shuttles": roster["shuttles"],
        "couriers": roster["couriers"],
        "jobs": [_job_of(row) for row in rows],
    }
    return request, [row.id for row in rows]


def planned_jobs(*, session: Session, date: str, plan_id: str) -> list[dict[str, Any]]:
    """The jobs (with the citizens' data) of the day's requests that a plan has planned."""
    stmt = select(BookedRequest).where(
        BookedRequest.date == date,
        BookedRequest.status == "planned",
        BookedRequest.plan_id == plan_id,
    )
    return [_job_of(row) for row in session.exec(stmt.order_by(col(BookedRequest.id)))]


def cancel_request(*, session: Session, request_id: str) -> BookedRequest:
    """Cancel an open request (it is then left out of its day's plan and of duplicate flags).

    Raises
    ------
    NotFound
        When no request has this id.
    InvalidInput
        When the request is no longer open.
    """
    with write_lock(session_engine(session)):
        row = session.get(BookedRequest, request_id)
        if row is None:
            msg = f"request {request_id}: no such request"
            raise NotFound(msg)
        if row.status == "cancelled":
            return row
        if row.status != "open":
            msg = f"request {request_id} is {row.status}: only an open request can be cancelled"
            raise InvalidInput(msg)
        row.status, row.updated_at = "cancelled", utcnow()
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def mark_planned(*, session: Session, ids: Iterable[str], plan_id: str) -> None:
    """Mark requests as planned by a stored plan and give its dossiers the ID-number hashes.

    The plan's contact rows were made from the name and phone; the citizen ID number was never
    stored, so its salted hashes are carried over with their salt (and the phone's last 4
    digits hashed again with it) for the identity check at delivery.
    """
    with write_lock(session_engine(session)):
        mark_planned_in(session, ids=ids, plan_id=plan_id)
        session.commit()


def mark_planned_in(session: Session, *, ids: Iterable[str], plan_id: str) -> None:
    """:func:`mark_planned` inside the caller's transaction (no lock taken, no commit)."""
    wanted = list(ids)
    rows = _existing(session, wanted)
    codes = {row.dossier: row for row in rows.values() if row.id_hash is not None}
    for row in rows.values():
        row.status, row.plan_id, row.updated_at = "planned", plan_id, utcnow()
        session.add(row)
    stmt = select(Dossier, CitizenContact).where(
        col(Dossier.code).in_(list(codes)), CitizenContact.dossier_id == Dossier.id
    )
    for dossier, contact in session.exec(stmt):
        source = codes[dossier.code]
        contact.salt, contact.id_hash = source.salt, source.id_hash
        contact.id_last4_hash = source.id_last4_hash
        digits = digits_of(contact.phone or "")
        contact.phone_last4_hash = (
            secret_hash(digits[-4:], contact.salt, purpose="phone_last4") if digits else None
        )
        session.add(contact)


def booked_jobs(
    session: Session, *, date: str, jobs: Sequence[Mapping[str, Any]]
) -> dict[str, BookedRequest]:
    """The live requests of ``date`` (open or planned) that ``jobs`` plan, by job id.

    A job is a request's when it has the request's id and dossier (a plan of the book names its
    jobs by the requests' ids).
    """
    return {
        rid: row
        for rid, row in _requests_of_jobs(session, date, jobs).items()
        if row.status in LIVE
    }


def cancelled_jobs(session: Session, *, date: str, jobs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ids of the cancelled requests of ``date`` that ``jobs`` still plan, in id order."""
    rows = _requests_of_jobs(session, date, jobs)
    return sorted(rid for rid, row in rows.items() if row.status == "cancelled")


def _requests_of_jobs(
    session: Session, date: str, jobs: Sequence[Mapping[str, Any]]
) -> dict[str, BookedRequest]:
    dossier_of = {str(j.get("id")): str(j.get("dossier")) for j in jobs if isinstance(j, Mapping)}
    rows = _existing(session, sorted(dossier_of))
    return {
        rid: row for rid, row in rows.items() if row.date == date and row.dossier == dossier_of[rid]
    }


LIVE = ("open", "planned")
"""The statuses of a request a plan may still change."""


def personal_job(row: BookedRequest, job: Mapping[str, Any]) -> dict[str, Any]:
    """``job`` with the citizen's name, phone and the address the book keeps for it."""
    personal = _job_of(row)
    out = dict(job)
    for key in PERSONAL_KEYS:
        if key in personal:
            out[key] = personal[key]
    return out


def reopen_in(session: Session, *, ids: Iterable[str]) -> None:
    """Make planned requests open again (a published plan left them out); no commit."""
    for row in _existing(session, list(ids)).values():
        if row.status == "planned":
            row.status, row.plan_id, row.updated_at = "open", None, utcnow()
            session.add(row)
