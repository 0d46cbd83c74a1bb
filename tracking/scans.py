"""Ingestion of scan events from couriers' phones and centre staff (DESIGN §5, §7).

A batch of events is checked as a whole first (malformed fields, unknown dossiers or sites raise
:class:`~tracking.errors.InvalidInput` naming ``events[i].field``; scanning someone else's
dossier raises :class:`~tracking.errors.Forbidden`), then written in one transaction that is
committed durably before :func:`ingest_scans` returns. Each event gets one answer:

``stored``
    New, and it fits the life cycle.
``duplicate``
    The same ``event_id`` with the same content was recorded before (resent by a phone that
    did not see the answer): nothing new is written; ``first_status`` repeats the first answer.
``conflict``
    The same ``event_id`` was recorded before with different content: nothing is written.
``flagged``
    New and recorded for audit, but it does not change the status: it breaks the life cycle at
    its place in device-time order, its device time is too far in the server's future, or a
    ``delivered`` scan lacks valid proof of identity. The reason says which.

Idempotency holds under concurrent sends: ``event_id`` is unique in the database, rows are
inserted with ``ON CONFLICT DO NOTHING`` and read back when the insert lost a race; on
PostgreSQL the batch's dossier rows are locked (``SELECT … FOR UPDATE``) so two batches for one
dossier fold its events one after the other; on SQLite :func:`~tracking.db.write_lock`
serialises writers.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from geo.coords import parse_latlon
from tracking.db import is_sqlite, session_engine, write_lock
from tracking.delivery import check_delivery_proof
from tracking.errors import Forbidden, InvalidInput, TrackingError
from tracking.lifecycle import (
    SITE_REQUIRED,
    EventType,
    Fold,
    LifecycleEvent,
    Role,
    access_reason,
    custodian_after,
    future_reason,
)
from tracking.models import Dossier, ScanEvent, Site, User, utcnow
from tracking.state import counting_events, dossier_state, fold_dossier, save_folds

ScanStatus = Literal["stored", "duplicate", "conflict", "flagged"]

MAX_ID_LENGTH = 100


def parse_time(value: Any, *, where: str) -> datetime:
    """Parse an ISO 8601 time that must carry a UTC offset (``2026-11-23T08:12:00+07:00``).

    Raises
    ------
    InvalidInput
        If the value is not a string or datetime, not ISO 8601, or has no offset.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            msg = f"{where}: not an ISO 8601 time (write e.g. 2026-11-23T08:12:00+07:00)"
            raise InvalidInput(msg) from None
    else:
        msg = f"{where}: expected an ISO 8601 time with offset, got {type(value).__name__}"
        raise InvalidInput(msg)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        msg = f"{where}: the time has no UTC offset (write e.g. 2026-11-23T08:12:00+07:00)"
        raise InvalidInput(msg)
    return parsed


def _text(value: Any, *, where: str, required: bool, limit: int = MAX_ID_LENGTH) -> str | None:
    if value is None:
        if required:
            msg = f"{where}: missing"
            raise InvalidInput(msg)
        return None
    if not isinstance(value, str) or not value.strip():
        msg = f"{where}: expected a non-empty string"
        raise InvalidInput(msg)
    if len(value) > limit:
        msg = f"{where}: longer than {limit} characters"
        raise InvalidInput(msg)
    return value


@dataclass(frozen=True, slots=True)
class ScanInput:
    """One scan event as sent by a phone or a counter (DESIGN §7).

    Attributes
    ----------
    event_id
        Made on the device (a UUID); the same id twice is stored once.
    dossier
        The dossier code, e.g. ``H12.22-241013-0001``.
    type
        The event type (:class:`~tracking.lifecycle.EventType` or its value).
    at
        Device time, timezone-aware.
    site
        The site id where it happened, for events at a site (required for ``at_hub``,
        ``on_shuttle``, ``received``, ``result_ready``, ``returned``).
    lat, lon
        Where the device was, in degrees (both or neither).
    job
        The plan's job id, if the scan is for a planned job.
    proof
        For ``delivered``: ``{"code": "123456"}`` (one-time code) or ``{"id_last4": "6789"}``
        (last 4 digits of the citizen ID), plus ``"recipient_name"`` and
        ``"recipient_is_applicant": false`` when someone else receives it. Raw secrets are
        checked, never stored.
    reason
        Why a ``delivery_failed`` happened (also accepted as ``proof["reason"]``).

    Raises
    ------
    InvalidInput
        On construction, if a field is malformed (naming it).
    """

    event_id: str
    dossier: str
    type: EventType
    at: datetime
    site: str | None = None
    lat: float | None = None
    lon: float | None = None
    job: str | None = None
    proof: Mapping[str, Any] | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        _text(self.event_id, where="event_id", required=True)
        _text(self.dossier, where="dossier", required=True, limit=64)
        _text(self.site, where="site", required=False)
        _text(self.job, where="job", required=False)
        _text(self.reason, where="reason", required=False, limit=300)
        try:
            object.__setattr__(self, "type", EventType(self.type))
        except ValueError:
            allowed = ", ".join(e.value for e in EventType)
            msg = f"type: not an event type (one of {allowed})"
            raise InvalidInput(msg) from None
        object.__setattr__(self, "at", parse_time(self.at, where="at"))
        if (self.lat is None) != (self.lon is None):
            msg = "lat, lon: give both or neither"
            raise InvalidInput(msg)
        if self.lat is not None:
            try:
                point = parse_latlon(self.lat, self.lon, where="lat, lon")
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
            object.__setattr__(self, "lat", point.lat)
            object.__setattr__(self, "lon", point.lon)
        if self.proof is not None and not isinstance(self.proof, Mapping):
            msg = f"proof: expected an object, got {type(self.proof).__name__}"
            raise InvalidInput(msg)
        if self.type in SITE_REQUIRED and self.site is None:
            msg = f"site: a '{self.type}' scan happens at a site and must name it"
            raise InvalidInput(msg)
        if self.type is EventType.DELIVERY_FAILED and self.failure_reason() is None:
            msg = "reason: a 'delivery_failed' scan needs a reason (e.g. 'not at home')"
            raise InvalidInput(msg)

    @classmethod
    def from_json(cls, data: Any, *, where: str = "event") -> ScanInput:
        """Build a scan from decoded JSON, naming ``where`` (``events[3]``) in any error.

        Raises
        ------
        InvalidInput
            If ``data`` is not an object, has unknown keys, or a field is malformed.
        """
        if not isinstance(data, Mapping):
            msg = f"{where}: expected an object, got {type(data).__name__}"
            raise InvalidInput(msg)
        known = {"event_id", "dossier", "type", "at", "site", "lat", "lon", "job", "proof"}
        known.add("reason")
        unknown = sorted(set(data) - known)
        if unknown:
            msg = f"{where}.{unknown[0]}: unknown field"
            raise InvalidInput(msg)
        for key in ("event_id", "dossier", "type", "at"):
            if data.get(key) is None:
                msg = f"{where}.{key}: missing"
                raise InvalidInput(msg)
        try:
            return cls(
                event_id=data["event_id"],
                dossier=data["dossier"],
                type=data["type"],
                at=data["at"],
                site=data.get("site"),
                lat=data.get("lat"),
                lon=data.get("lon"),
                job=data.get("job"),
                proof=data.get("proof"),
                reason=data.get("reason"),
            )
        except InvalidInput as exc:
            msg = f"{where}.{exc}"
            raise InvalidInput(msg) from None

    def failure_reason(self) -> str | None:
        """Return the reason of a failed delivery, from ``reason`` or ``proof["reason"]``."""
        if self.reason:
            return self.reason
        if self.proof is not None:
            value = self.proof.get("reason")
            if isinstance(value, str) and value.strip():
                return value[:300]
        return None

    def content_hash(self, actor: str) -> str:
        """Return a SHA-256 over everything the event says (all but its id), and its actor."""
        content = {
            "actor": actor,
            "dossier": self.dossier,
            "type": self.type.value,
            "at": self.at.timestamp(),
            "site": self.site,
            "lat": None if self.lat is None else round(self.lat, 7),
            "lon": None if self.lon is None else round(self.lon, 7),
            "job": self.job,
            "proof": dict(self.proof) if self.proof is not None else None,
            "reason": self.reason,
        }
        text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The answer for one event of a batch.

    Attributes
    ----------
    event_id
        The event's id, as sent.
    status
        ``stored``, ``duplicate``, ``conflict`` or ``flagged``.
    reason
        Why it was flagged or is a conflict; for a duplicate, the first answer's reason.
    first_status
        For a duplicate: the status the event got when first recorded (``stored``/``flagged``).
    dossier_status
        The dossier's status after the batch (``None`` for a conflict).
    reason_code
        For a flagged event, a short code of ``reason`` a phone can act on:
        ``id_digits_wrong``, ``id_digits_blocked`` (ask for the one-time code),
        ``code_wrong``, ``code_blocked``, ``proof_missing``, ``device_time_ahead``,
        ``life_cycle`` ... (see :mod:`tracking.delivery`).
    """

    event_id: str
    status: ScanStatus
    reason: str | None = None
    first_status: str | None = None
    dossier_status: str | None = None
    reason_code: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the answer as the JSON object of ``POST /v1/scans`` (DESIGN §7)."""
        out: dict[str, Any] = {"event_id": self.event_id, "status": self.status}
        out["reason"] = self.reason
        if self.reason_code is not None:
            out["reason_code"] = self.reason_code
        if self.first_status is not None:
            out["first_status"] = self.first_status
        if self.dossier_status is not None:
            out["dossier_status"] = self.dossier_status
        return out


@dataclass
class _New:
    index: int
    scan: ScanInput
    content_hash: str
    dossier: Dossier
    void_reason: str | None = None
    proof_json: dict[str, Any] | None = None
    answer: ScanStatus = "stored"
    reason: str | None = None
    reason_code: str | None = None
    lost_race: bool = False


def ingest_scans(
    *,
    session: Session,
    events: Sequence[ScanInput],
    actor: User,
    now: datetime | None = None,
) -> list[ScanResult]:
    """Record a batch of scan events and return one answer per event, in order.

    The batch is one transaction, committed (durably: SQLite ``synchronous=FULL``) before this
    returns. Any changes pending in ``session`` are committed first.

    Parameters
    ----------
    session
        The database session.
    events
        The scans, e.g. from :meth:`ScanInput.from_json`.
    actor
        The user who sends them (a courier's user name is its courier id).
    now
        The server's clock (timezone-aware); defaults to the current time. Device times more
        than :data:`~tracking.lifecycle.FUTURE_TOLERANCE` ahead of it are flagged.

    Returns
    -------
    list of ScanResult
        ``stored``, ``duplicate``, ``conflict`` or ``flagged`` with a reason (module docstring).

    Raises
    ------
    InvalidInput
        If an event names an unknown dossier or site, or ``job`` does not match the dossier's
        planned job (message names ``events[i].field``); nothing is written.
    Forbidden
        If the actor's role may not scan an event's type, or a courier scans a dossier that is
        neither on its route nor in its custody; nothing is written.
    """
    now = utcnow() if now is None else parse_time(now, where="now")
    if not events:
        return []
    actor_id, actor_name, role = actor.id, actor.name, Role(actor.role)
    if actor_id is None:
        msg = "actor: the user is not stored"
        raise InvalidInput(msg)
    engine = session_engine(session)
    session.commit()  # start the batch's transaction afresh, inside the writer lock
    pending = _Pending(events=events, actor=_Actor(actor_id, actor_name, role), now=now)
    if is_sqlite(engine):
        return _group_commit(engine, pending)
    try:
        results = _Batch(session, events, pending.actor, now).run()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return results


@dataclass
class _Pending:
    """A batch waiting for a SQLite group commit."""

    events: Sequence[ScanInput]
    actor: _Actor
    now: datetime
    results: list[ScanResult] | None = None
    error: BaseException | None = None
    done: bool = False


_queues: weakref.WeakKeyDictionary[Engine, list[_Pending]] = weakref.WeakKeyDictionary()
_queues_guard = threading.Lock()


def _queue_for(engine: Engine) -> list[_Pending]:
    with _queues_guard:
        return _queues.setdefault(engine, [])


def pending_batches(engine: Engine) -> int:
    """Return how many batches wait for the next SQLite group commit (for tests and metrics)."""
    queue = _queue_for(engine)
    with _queues_guard:
        return len(queue)


def _group_commit(engine: Engine, pending: _Pending) -> list[ScanResult]:
    """Ingest a batch on SQLite, sharing one durable commit with the batches queued with it.

    A commit with ``synchronous=FULL`` waits for the disk (milliseconds); one writer at a time
    would cap a server at a few hundred commits a second. So each batch joins a queue, and
    whoever holds the writer lock next ingests every queued batch in one transaction (each in
    its own savepoint, so a refused batch leaves the others intact) and commits once. Every
    caller returns only after the commit that holds its events.
    """
    queue = _queue_for(engine)
    with _queues_guard:
        queue.append(pending)
    with write_lock(engine):
        if not pending.done:
            with _queues_guard:
                group = list(queue)
                queue.clear()
            _run_group(engine, group)
    if pending.error is not None:
        raise pending.error
    assert pending.results is not None
    return pending.results


def _run_group(engine: Engine, group: list[_Pending]) -> None:
    try:
        with Session(engine) as session:
            for item in group:
                # Alone, a batch needs no savepoint: a refusal rolls back the whole transaction.
                savepoint = session.begin_nested() if len(group) > 1 else None
                try:
                    item.results = _Batch(session, item.events, item.actor, item.now).run()
                    if savepoint is not None:
                        savepoint.commit()
                except TrackingError as exc:
                    (savepoint or session).rollback()
                    item.error = exc
            session.commit()
    except BaseException as exc:
        for item in group:
            item.results, item.error = None, item.error or exc
        raise
    finally:
        for item in group:
            item.done = True


@dataclass(frozen=True, slots=True)
class _Actor:
    id: int
    name: str
    role: Role


class _Batch:
    """One batch being ingested, in phases: check, classify, fold, insert, answer."""

    def __init__(
        self, session: Session, events: Sequence[ScanInput], actor: _Actor, now: datetime
    ) -> None:
        self.session = session
        self.events = events
        self.actor = actor
        self.now = now
        self.dossiers: dict[str, Dossier] = {}
        self.results: list[ScanResult | None] = [None] * len(events)
        self.new: list[_New] = []
        self.first: dict[str, _New] = {}
        self.repeats: dict[int, tuple[_New, str]] = {}
        self.folds: dict[int, Fold] = {}

    def run(self) -> list[ScanResult]:
        self.check()
        self.classify()
        self.fold()
        self.insert()
        return self.answers()

    def check(self) -> None:
        """Lock the batch's dossiers and refuse unknown dossiers, sites and jobs."""
        codes = sorted({e.dossier for e in self.events})
        stmt = (
            select(Dossier)
            .where(col(Dossier.code).in_(codes))
            .order_by(col(Dossier.id))
            .with_for_update()
        )
        self.dossiers = {d.code: d for d in self.session.exec(stmt)}
        named = sorted({e.site for e in self.events if e.site is not None})
        known = set(self.session.exec(select(Site.id).where(col(Site.id).in_(named))).all())
        courier = self.actor.role is Role.COURIER
        for i, scan in enumerate(self.events):
            dossier = self.dossiers.get(scan.dossier)
            if courier and (dossier is None or not _courier_may_see(dossier, self.actor.name)):
                # One answer for an unknown code and another courier's dossier, given before
                # any other check: a courier learns neither which codes exist nor their jobs.
                raise Forbidden(_not_yours(i, self.actor.name))
            if dossier is None:
                msg = f"events[{i}].dossier: no dossier with this code"
                raise InvalidInput(msg)
            if scan.site is not None and scan.site not in known:
                msg = f"events[{i}].site: no site with this id"
                raise InvalidInput(msg)
            if scan.job is not None and dossier.job_id is not None and scan.job != dossier.job_id:
                msg = f"events[{i}].job: this dossier is planned as job {dossier.job_id!r}"
                raise InvalidInput(msg)

    def classify(self) -> None:
        """Tell repeats from new events; check access and proof of the new ones."""
        ids = sorted({e.event_id for e in self.events})
        stmt = select(ScanEvent).where(col(ScanEvent.event_id).in_(ids))
        seen = {row.event_id: row for row in self.session.exec(stmt)}
        for i, scan in enumerate(self.events):
            digest = scan.content_hash(self.actor.name)
            if scan.event_id in seen:
                self.results[i] = _repeat_answer(seen[scan.event_id], digest)
            elif scan.event_id in self.first:
                self.repeats[i] = (self.first[scan.event_id], digest)
            else:
                item = self.admit(i, scan, digest)
                self.first[scan.event_id] = item
                self.new.append(item)

    def admit(self, i: int, scan: ScanInput, digest: str) -> _New:
        dossier = self.dossiers[scan.dossier]
        reason = access_reason(
            dossier_state(dossier),
            role=self.actor.role,
            actor=self.actor.name,
            event_type=scan.type,
        )
        if reason is not None:
            msg = f"events[{i}]: {reason}"
            raise Forbidden(msg)
        item = _New(index=i, scan=scan, content_hash=digest, dossier=dossier)
        item.void_reason = future_reason(scan.at, self.now)
        if item.void_reason is not None:
            item.reason_code = "device_time_ahead"
        if scan.type is EventType.DELIVERED:
            check = check_delivery_proof(
                session=self.session, dossier=dossier, proof=scan.proof, now=self.now
            )
            item.proof_json = check.stored
            if item.void_reason is None and check.reason is not None:
                item.void_reason, item.reason_code = check.reason, check.code
        elif scan.type is EventType.DELIVERY_FAILED:
            item.proof_json = {"reason": scan.failure_reason()}
        return item

    def fold(self) -> None:
        """Fold each touched dossier with its new events to decide stored or flagged.

        The stored events of every touched dossier are read in one query. New events are
        folded as if recorded after all stored ones, which is where their ids will put them
        (the dossier rows are locked, or the SQLite writer lock is held, until commit).
        """
        by_dossier: dict[int, list[_New]] = {}
        for item in self.new:
            assert item.dossier.id is not None
            by_dossier.setdefault(item.dossier.id, []).append(item)
        stored = counting_events(self.session, by_dossier)
        for dossier_id, items in by_dossier.items():
            extra = [
                LifecycleEvent(
                    type=it.scan.type,
                    at=it.scan.at,
                    actor=self.actor.name,
                    role=self.actor.role,
                    site=it.scan.site,
                    lat=it.scan.lat,
                    lon=it.scan.lon,
                    seq=10**15 + it.index,
                    key=f"new:{it.index}",
                )
                for it in items
                if it.void_reason is None
            ]
            fold = fold_dossier(
                self.session, items[0].dossier, extra=extra, counting=stored[dossier_id]
            )
            self.folds[dossier_id] = fold
            for it in items:
                reason = it.void_reason or fold.outcomes.get(f"new:{it.index}")
                it.answer, it.reason = ("stored", None) if reason is None else ("flagged", reason)
                if reason is not None and it.void_reason is None:
                    it.reason_code = "life_cycle"

    def insert(self) -> None:
        """Insert the new events in one statement (ON CONFLICT DO NOTHING), then save state."""
        if not self.new:
            return
        rows = [self.row_values(item) for item in self.new]
        stmt = (
            _insert_for(self.session)(ScanEvent)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(sa.column("event_id"))
        )
        inserted = set(self.session.connection().execute(stmt, rows).scalars())
        raced: set[int] = set()
        for item in self.new:
            if item.scan.event_id in inserted:
                continue
            # Another transaction stored this event_id between our look-up and this insert.
            row = self.session.exec(
                select(ScanEvent).where(ScanEvent.event_id == item.scan.event_id)
            ).one()
            self.results[item.index] = _repeat_answer(row, item.content_hash)
            item.lost_race = True
            assert item.dossier.id is not None
            raced.add(item.dossier.id)
        touched = {it.dossier.id: it.dossier for it in self.new}
        folds = []
        for dossier_id, dossier in touched.items():
            assert dossier_id is not None
            fold = fold_dossier(self.session, dossier) if dossier_id in raced else None
            folds.append((dossier, fold or self.folds[dossier_id]))
        save_folds(self.session, folds, now=self.now)

    def row_values(self, item: _New) -> dict[str, Any]:
        """Return the column values of a new event's row."""
        scan = item.scan
        return {
            "event_id": scan.event_id,
            "dossier_id": item.dossier.id,
            "type": scan.type.value,
            "device_at": scan.at,
            "recorded_at": self.now,
            "actor_id": self.actor.id,
            "actor_name": self.actor.name,
            "actor_role": self.actor.role.value,
            "site": scan.site,
            "lat": scan.lat,
            "lon": scan.lon,
            "job": scan.job,
            "custodian_after": custodian_after(scan.type, actor=self.actor.name, site=scan.site),
            "proof_json": item.proof_json,
            "content_hash": item.content_hash,
            "flagged": item.answer == "flagged",
            "flag_reason": item.reason,
            "void_reason": item.void_reason,
        }

    def answers(self) -> list[ScanResult]:
        out: list[ScanResult] = []
        for i, scan in enumerate(self.events):
            result = self.results[i]
            if i in self.repeats:
                result = _repeat_in_batch(*self.repeats[i])
            elif result is None:
                item = self.first[scan.event_id]
                result = ScanResult(
                    scan.event_id, item.answer, item.reason, reason_code=item.reason_code
                )
            if result.status != "conflict":
                status = self.dossiers[scan.dossier].status
                result = replace(result, dossier_status=status)
            out.append(result)
        return out


def _not_yours(index: int, courier: str) -> str:
    return f"events[{index}]: courier {courier} is neither assigned this dossier nor holding it"


def _courier_may_see(dossier: Dossier, courier: str) -> bool:
    state = dossier_state(dossier)
    return state.assigned_courier == courier or state.custodian == f"courier:{courier}"


def _insert_for(session: Session) -> Any:
    name = session_engine(session).dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    msg = f"database: unsupported dialect {name!r}"
    raise InvalidInput(msg)


def _repeat_answer(row: ScanEvent, digest: str) -> ScanResult:
    first: ScanStatus = "flagged" if row.flagged else "stored"
    if row.content_hash == digest:
        return ScanResult(
            event_id=row.event_id, status="duplicate", reason=row.flag_reason, first_status=first
        )
    msg = (
        f"event_id {row.event_id!r} was already recorded at {row.recorded_at.isoformat()} "
        "with different content; send a new event_id for a new scan"
    )
    return ScanResult(event_id=row.event_id, status="conflict", reason=msg)


def _repeat_in_batch(first: _New, digest: str) -> ScanResult:
    event_id = first.scan.event_id
    if first.lost_race:
        return ScanResult(event_id=event_id, status="duplicate", reason=None)
    if first.content_hash == digest:
        return ScanResult(
            event_id=event_id,
            status="duplicate",
            reason=first.reason,
            first_status=first.answer,
            reason_code=first.reason_code,
        )
    msg = f"event_id {event_id!r} appears earlier in this batch with different content"
    return ScanResult(event_id=event_id, status="conflict", reason=msg)
