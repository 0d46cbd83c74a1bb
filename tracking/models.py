"""The tables of buuta's records (sqlmodel), in one module.

Personal data is kept apart and protected: a dossier row carries no name, phone or address; the
citizen's contact details live in :class:`CitizenContact`, read only for staff and for the
courier whose route carries the dossier. A citizen ID number is never stored: only salted hashes
of the whole number and of its last 4 digits (the identity check at delivery), and of the
phone's last 4 digits (the citizen's second factor for the public lookup).

Scan events are append-only: a row is inserted once and never updated. The dossier row caches
the state derived from its events (status, custodian, place) for fast reads; it is recomputed
from the events whenever they change.

All times are stored in UTC and read back timezone-aware (:class:`UTCDateTime`).

Schema changes go through Alembic migrations in ``tracking/migrations`` (``upgrade(engine)``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from routing.plan import Plan, plan_from_json


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset; PostgreSQL keeps ``timestamptz``. Naive datetimes are refused, so
    a local time without an offset can never be stored by mistake.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC before storing it."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"timestamp {value.isoformat()} has no UTC offset"
            raise ValueError(msg)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to the naive values SQLite returns."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _ts(*, index: bool = False, nullable: bool = False) -> Any:
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


class User(SQLModel, table=True):
    """A user of the API: a name, a role and the hash of its token (never the token)."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    active: bool = True
    created_at: datetime = _ts()


class Courier(SQLModel, table=True):
    """A courier known from the plans (its id is the courier id of the plan requests)."""

    __tablename__ = "couriers"

    id: str = Field(primary_key=True, max_length=100)
    mode: str | None = Field(default=None, max_length=20)
    created_at: datetime = _ts()


class Site(SQLModel, table=True):
    """A site named in the plans (centre, post office, one-stop office, department).

    Kept so that scans can be checked against known sites and public answers can name a place
    at site level. The latest stored plan that mentions a site updates it.
    """

    __tablename__ = "sites"

    id: str = Field(primary_key=True, max_length=100)
    kind: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    lat: float
    lon: float
    updated_at: datetime = _ts()


PLAN_STATES = ("draft", "published", "superseded")
"""A stored plan's states: a ``draft`` registers nothing anyone but the dispatcher sees; a
``published`` plan gives couriers, staff and citizens their work; a ``superseded`` plan was
replaced by a later published one."""


class StoredPlan(SQLModel, table=True):
    """A plan as solved, with the request it answers (citizen data removed from the request).

    ``state`` is one of :data:`PLAN_STATES`. A draft names ``base_plan_id``, the day's published
    plan when it was made (``None``: none), so publishing it can tell whether the day changed.
    """

    __tablename__ = "plans"

    id: str = Field(primary_key=True, max_length=64)
    date: str = Field(max_length=10, index=True)
    status: str = Field(max_length=20)
    state: str = Field(
        default="published",
        sa_column=sa.Column(
            sa.String(length=20), nullable=False, server_default="published", index=True
        ),
    )
    base_plan_id: str | None = Field(default=None, max_length=64)
    request_json: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    plan_json: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_by: str = Field(max_length=100)
    created_at: datetime = _ts()
    published_by: str | None = Field(default=None, max_length=100)
    published_at: datetime | None = _ts(nullable=True)

    def plan(self) -> Plan:
        """Return the stored plan, typed (read by the one reader of plan JSON)."""
        return plan_from_json(self.plan_json, where=f"stored plan {self.id}")

    def request_items(self, part: str) -> dict[str, dict[str, Any]]:
        """The request's ``part`` (``jobs``, ``sites``, ``shuttles``, ``couriers``) by id."""
        items = self.request_json.get(part)
        return {str(x.get("id")): dict(x) for x in items or [] if isinstance(x, dict)}


class Dossier(SQLModel, table=True):
    """A dossier carried by buuta, with the state derived from its scans.

    ``custodian`` is ``courier:<id>``, ``site:<id>``, ``shuttle:<site>`` or ``citizen``.
    The planning fields (``plan_id``, ``job_id``, ``courier_id``) name the latest stored plan
    that carries the dossier.
    """

    __tablename__ = "dossiers"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    procedure: str | None = Field(default=None, max_length=200)
    direction: str = Field(max_length=10)
    status: str = Field(max_length=20, index=True)
    custodian: str | None = Field(default=None, max_length=120)
    place_site: str | None = Field(default=None, max_length=100)
    place_lat: float | None = None
    place_lon: float | None = None
    status_at: datetime | None = _ts(nullable=True)
    failed_attempts: int = 0
    due_date: str | None = Field(default=None, max_length=10)
    plan_id: str | None = Field(default=None, foreign_key="plans.id", max_length=64, index=True)
    job_id: str | None = Field(default=None, max_length=100)
    courier_id: str | None = Field(default=None, max_length=100, index=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class CitizenContact(SQLModel, table=True):
    """The citizen behind a dossier: contact details for the courier, hashes for checks.

    Never shown in public answers. ``id_hash`` and ``id_last4_hash`` are salted hashes of the
    citizen ID number and of its last 4 digits; ``phone_last4_hash`` of the phone's last 4.
    """

    __tablename__ = "citizen_contacts"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossiers.id", unique=True)
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)
    salt: str = Field(max_length=32)
    id_hash: str | None = Field(default=None, max_length=64)
    id_last4_hash: str | None = Field(default=None, max_length=64)
    phone_last4_hash: str | None = Field(default=None, max_length=64)
    id_wrong_tries: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Wrong ID digits tried at delivery since the last staff decision; at the limit the ID
    digits stop counting as proof (a one-time code or a staff decision is needed)."""
    id_cleared_by: str | None = Field(default=None, max_length=100)
    """The staff user who last let the ID digits be tried again, for the audit."""
    id_cleared_at: datetime | None = _ts(nullable=True)


class ScanEvent(SQLModel, table=True):
    """One scan, append-only. ``id`` is the server's record order.

    ``content_hash`` tells a resent event (same content: duplicate) from a clash (same
    ``event_id``, other content: conflict). ``flag_reason`` is the reason given when the event
    was recorded, if it was flagged; ``void_reason`` marks an event that never counts for the
    status (a device time far in the future, a delivery without valid proof).
    """

    __tablename__ = "scan_events"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=100, unique=True)
    dossier_id: int = Field(foreign_key="dossiers.id", index=True)
    type: str = Field(max_length=20)
    device_at: datetime = _ts()
    recorded_at: datetime = _ts()
    actor_id: int = Field(foreign_key="users.id")
    actor_name: str = Field(max_length=100)
    actor_role: str = Field(max_length=20)
    site: str | None = Field(default=None, max_length=100)
    lat: float | None = None
    lon: float | None = None
    job: str | None = Field(default=None, max_length=100)
    custodian_after: str | None = Field(default=None, max_length=120)
    proof_json: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    content_hash: str = Field(max_length=64)
    flagged: bool = False
    flag_reason: str | None = Field(default=None, max_length=500)
    void_reason: str | None = Field(default=None, max_length=500)


class CourierPosition(SQLModel, table=True):
    """A position reported by a courier's phone (device time and server record time)."""

    __tablename__ = "courier_positions"
    __table_args__ = (sa.Index("ix_courier_positions_courier_at", "courier_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    courier_id: str = Field(max_length=100)
    at: datetime = _ts()
    recorded_at: datetime = _ts()
    lat: float
    lon: float
    accuracy_m: float | None = None


class DeliveryCode(SQLModel, table=True):
    """A one-time code for the hand-over of a result: only its salted hash is stored."""

    __tablename__ = "delivery_codes"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossiers.id", index=True)
    salt: str = Field(max_length=32)
    code_hash: str = Field(max_length=64)
    created_at: datetime = _ts()
    expires_at: datetime = _ts()
    tries: int = 0
    max_tries: int = 5
    used_at: datetime | None = _ts(nullable=True)


class AttemptCount(SQLModel, table=True):
    """How many attempts a key made in one fixed time window (public lookups, guesses).

    Kept in the database so that every API process counts together. ``key`` is a SHA-256 of
    what is counted (a client address, a dossier code), never the value itself.
    """

    __tablename__ = "attempt_counts"

    bucket: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=64)
    window_no: int = Field(primary_key=True)
    """The window's number: seconds since the epoch divided by the window's length."""
    count: int = 0


class Promise(SQLModel, table=True):
    """The promised date of a dossier's result: the procedure's processing time in working days
    counted from the day it was received (weekends and Vietnamese public holidays skipped)."""

    __tablename__ = "promises"

    dossier_id: int = Field(foreign_key="dossiers.id", primary_key=True)
    processing_days: int
    received_on: str = Field(max_length=10)
    promised_date: str = Field(max_length=10, index=True)


class OutboxMessage(SQLModel, table=True):
    """A message to a citizen waiting to be sent, or sent (SMS or Zalo through a gateway).

    ``key`` makes it idempotent: one message per scan event and kind (``<event_id>:<kind>``),
    so a resent scan never texts a citizen twice. ``phone`` is the recipient (kept only here
    and in the contact table); ``text`` carries no ID number and no address.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    dossier_id: int = Field(foreign_key="dossiers.id", index=True)
    kind: str = Field(max_length=40)
    phone: str = Field(max_length=32)
    text: str = Field(max_length=500)
    status: str = Field(max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, max_length=300)


class MessageOptOut(SQLModel, table=True):
    """A citizen who asked for no more messages about a dossier."""

    __tablename__ = "message_opt_outs"

    dossier_id: int = Field(foreign_key="dossiers.id", primary_key=True)
    at: datetime = _ts()


class BookedRequest(SQLModel, table=True):
    """A request of the book (DESIGN §8): a job of §4 kept as a record, with its day and status.

    ``job_json`` is the job as the planner takes it, without personal data; the citizen's name,
    phone and address sit in their own columns (shown only to roles that may see them) and the
    citizen ID number is never stored: only salted hashes, as in :class:`CitizenContact`.
    ``content_hash`` is a keyed hash of everything submitted (the ID number included), so the
    same request sent again is recognised as unchanged.
    """

    __tablename__ = "requests"

    id: str = Field(primary_key=True, max_length=100)
    date: str = Field(max_length=10, index=True)
    status: str = Field(max_length=20, index=True)
    kind: str = Field(max_length=10)
    dossier: str = Field(max_length=100, index=True)
    procedure: str | None = Field(default=None, max_length=200)
    due: str | None = Field(default=None, max_length=40)
    job_json: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    geocoded_json: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON, nullable=True)
    )
    address: str | None = Field(default=None, max_length=500)
    citizen_name: str | None = Field(default=None, max_length=200)
    citizen_phone: str | None = Field(default=None, max_length=40)
    salt: str = Field(max_length=32)
    id_hash: str | None = Field(default=None, max_length=64)
    id_last4_hash: str | None = Field(default=None, max_length=64)
    content_hash: str = Field(max_length=64)
    plan_id: str | None = Field(default=None, max_length=64)
    carried_from: str | None = Field(default=None, max_length=100)
    """The request of an earlier day this one continues (carry-over), if any."""
    carried_to: str | None = Field(default=None, max_length=100)
    """On a ``carried`` request: the request of the later day that continues it."""
    created_by: str = Field(max_length=100)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class RosterPart(SQLModel, table=True):
    """One part of the stored roster (``sites``, ``shuttles`` or ``couriers``) in §4's shapes."""

    __tablename__ = "roster"

    part: str = Field(primary_key=True, max_length=20)
    items: list[Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    updated_by: str = Field(max_length=100)
    updated_at: datetime = _ts()


TABLES: tuple[type[SQLModel], ...] = (
    User,
    Courier,
    Site,
    StoredPlan,
    Dossier,
    CitizenContact,
    ScanEvent,
    CourierPosition,
    DeliveryCode,
    AttemptCount,
    Promise,
    OutboxMessage,
    MessageOptOut,
    BookedRequest,
    RosterPart,
)
"""buuta's tables, in an order that respects foreign keys."""

TABLE_NAMES: frozenset[str] = frozenset(str(t.__tablename__) for t in TABLES)
