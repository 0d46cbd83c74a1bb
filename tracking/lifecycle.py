"""The dossier life cycle: a pure state machine, with no database and no web imports.

A dossier travels in one of two directions (DESIGN §5):

``pickup`` (a citizen's application goes to the agency)::

    requested ─collected→ collected ─at_hub→ at_hub ─on_shuttle→ on_shuttle ─received→ received
                          collected ─received→ received        (handed straight to the counter)
                                                at_hub ─received→ received  (hub is the agency)
                          on_shuttle ─at_hub→ at_hub   (a transfer: off one run of its journey,
                                                        waiting at a site for the next, §4)

``return`` (the agency's result goes back to the citizen)::

    processing ─result_ready→ result_ready ─on_shuttle→ on_shuttle ─at_hub→ at_hub
    result_ready ─at_hub→ at_hub            result_ready ─out_for_delivery→ out_for_delivery
    at_hub ─out_for_delivery→ out_for_delivery ─delivered→ delivered
                               out_for_delivery ─delivery_failed→ delivery_failed
    delivery_failed ─out_for_delivery→ out_for_delivery   (another attempt)
    delivery_failed ─at_hub→ at_hub                        (brought back to the post office)
    delivery_failed ─returned→ returned, and at_hub ─returned→ returned after a failed attempt

``received``, ``delivered`` and ``returned`` are final. Each event type may be scanned only by
certain roles (:data:`EVENT_ROLES`); a courier may scan only a dossier assigned to it or in its
custody. Each applied event moves custody (:func:`custodian_after`).

Status is never stored as the truth: it is :func:`derive_status`, the fold of a dossier's
events in device-time order (ties broken by the order the server recorded them), so phones that
were offline and send old events late still end in the right status. An event that does not fit
the life cycle at its place in that order is kept but not applied, with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    """Where a dossier stands in its life cycle."""

    REQUESTED = "requested"
    """Pickup booked by the citizen; not yet collected."""
    COLLECTED = "collected"
    """Collected from the citizen's home by a courier."""
    AT_HUB = "at_hub"
    """At a post office or hand-off site."""
    ON_SHUTTLE = "on_shuttle"
    """On the fixed inter-agency shuttle."""
    RECEIVED = "received"
    """Received by the centre or department (final for a pickup)."""
    PROCESSING = "processing"
    """Return: the agency is still working on the result."""
    RESULT_READY = "result_ready"
    """Return: the result is ready at the agency."""
    OUT_FOR_DELIVERY = "out_for_delivery"
    """Return: a courier carries the result to the citizen."""
    DELIVERED = "delivered"
    """Return: handed to the citizen after an identity check (final)."""
    DELIVERY_FAILED = "delivery_failed"
    """Return: an attempt failed (reason recorded); the courier still holds it."""
    RETURNED = "returned"
    """Return: given back to the agency after failed attempts (final)."""


class EventType(StrEnum):
    """The kinds of scan a courier or a staff member makes."""

    COLLECTED = "collected"
    AT_HUB = "at_hub"
    ON_SHUTTLE = "on_shuttle"
    RECEIVED = "received"
    RESULT_READY = "result_ready"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RETURNED = "returned"


class Role(StrEnum):
    """The roles of buuta's users."""

    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    COURIER = "courier"
    STAFF = "staff"


class Direction(StrEnum):
    """Which way a dossier travels."""

    PICKUP = "pickup"
    """From the citizen's home to the agency (a pickup job)."""
    RETURN = "return"
    """From the agency back to the citizen's home (a return job)."""


INITIAL_STATUS: Mapping[Direction, Status] = {
    Direction.PICKUP: Status.REQUESTED,
    Direction.RETURN: Status.PROCESSING,
}

FINAL_STATUSES: frozenset[Status] = frozenset({Status.RECEIVED, Status.DELIVERED, Status.RETURNED})

LEGAL_STATUSES: Mapping[Direction, frozenset[Status]] = {
    Direction.PICKUP: frozenset(
        {Status.REQUESTED, Status.COLLECTED, Status.AT_HUB, Status.ON_SHUTTLE, Status.RECEIVED}
    ),
    Direction.RETURN: frozenset(
        {
            Status.PROCESSING,
            Status.RESULT_READY,
            Status.ON_SHUTTLE,
            Status.AT_HUB,
            Status.OUT_FOR_DELIVERY,
            Status.DELIVERED,
            Status.DELIVERY_FAILED,
            Status.RETURNED,
        }
    ),
}
"""The statuses a dossier of each direction can ever be in."""

_P, _R, _E, _S = Direction.PICKUP, Direction.RETURN, EventType, Status

TRANSITIONS: Mapping[tuple[Direction, Status, EventType], Status] = {
    (_P, _S.REQUESTED, _E.COLLECTED): _S.COLLECTED,
    (_P, _S.COLLECTED, _E.AT_HUB): _S.AT_HUB,
    (_P, _S.COLLECTED, _E.RECEIVED): _S.RECEIVED,
    (_P, _S.AT_HUB, _E.ON_SHUTTLE): _S.ON_SHUTTLE,
    (_P, _S.AT_HUB, _E.RECEIVED): _S.RECEIVED,
    (_P, _S.ON_SHUTTLE, _E.RECEIVED): _S.RECEIVED,
    (_P, _S.ON_SHUTTLE, _E.AT_HUB): _S.AT_HUB,  # a transfer between two runs of a journey
    (_R, _S.PROCESSING, _E.RESULT_READY): _S.RESULT_READY,
    (_R, _S.RESULT_READY, _E.ON_SHUTTLE): _S.ON_SHUTTLE,
    (_R, _S.RESULT_READY, _E.AT_HUB): _S.AT_HUB,
    (_R, _S.RESULT_READY, _E.OUT_FOR_DELIVERY): _S.OUT_FOR_DELIVERY,
    (_R, _S.ON_SHUTTLE, _E.AT_HUB): _S.AT_HUB,
    (_R, _S.AT_HUB, _E.OUT_FOR_DELIVERY): _S.OUT_FOR_DELIVERY,
    (_R, _S.OUT_FOR_DELIVERY, _E.DELIVERED): _S.DELIVERED,
    (_R, _S.OUT_FOR_DELIVERY, _E.DELIVERY_FAILED): _S.DELIVERY_FAILED,
    (_R, _S.DELIVERY_FAILED, _E.OUT_FOR_DELIVERY): _S.OUT_FOR_DELIVERY,
    (_R, _S.DELIVERY_FAILED, _E.AT_HUB): _S.AT_HUB,
    (_R, _S.DELIVERY_FAILED, _E.RETURNED): _S.RETURNED,
    (_R, _S.AT_HUB, _E.RETURNED): _S.RETURNED,  # only after a failed attempt (guard below)
}
"""``(direction, status before, event) → status after``; anything else breaks the life cycle."""

EVENT_ROLES: Mapping[EventType, frozenset[Role]] = {
    _E.COLLECTED: frozenset({Role.COURIER, Role.ADMIN}),
    _E.AT_HUB: frozenset({Role.COURIER, Role.STAFF, Role.ADMIN}),
    _E.ON_SHUTTLE: frozenset({Role.COURIER, Role.STAFF, Role.ADMIN}),
    _E.RECEIVED: frozenset({Role.STAFF, Role.ADMIN}),
    _E.RESULT_READY: frozenset({Role.STAFF, Role.ADMIN}),
    _E.OUT_FOR_DELIVERY: frozenset({Role.COURIER, Role.ADMIN}),
    _E.DELIVERED: frozenset({Role.COURIER, Role.ADMIN}),
    _E.DELIVERY_FAILED: frozenset({Role.COURIER, Role.ADMIN}),
    _E.RETURNED: frozenset({Role.COURIER, Role.STAFF, Role.ADMIN}),
}
"""Which roles may scan each event type. Dispatchers plan; they do not handle dossiers."""

SITE_REQUIRED: frozenset[EventType] = frozenset(
    {_E.AT_HUB, _E.ON_SHUTTLE, _E.RECEIVED, _E.RESULT_READY, _E.RETURNED}
)
"""Event types that happen at a site and must name it."""

FUTURE_TOLERANCE = timedelta(minutes=10)
"""How far in the server's future a device time may be before the event is flagged."""


def custodian_after(event_type: EventType, *, actor: str, site: str | None) -> str:
    """Return who holds the dossier after an event, as ``kind:id``.

    Parameters
    ----------
    event_type
        The event applied.
    actor
        The user name of whoever scanned (a courier's name is its courier id).
    site
        The site id of the event, when it happened at a site.

    Returns
    -------
    str
        ``courier:<id>``, ``site:<id>``, ``shuttle:<departure site>`` or ``citizen``.
    """
    if event_type in (_E.COLLECTED, _E.OUT_FOR_DELIVERY, _E.DELIVERY_FAILED):
        return f"courier:{actor}"
    if event_type is _E.DELIVERED:
        return "citizen"
    if event_type is _E.ON_SHUTTLE:
        return f"shuttle:{site or 'unknown'}"
    return f"site:{site or 'unknown'}"


@dataclass(frozen=True, slots=True)
class DossierState:
    """What the life cycle knows of one dossier.

    Attributes
    ----------
    direction
        Pickup or return.
    status
        The current status.
    assigned_courier
        The courier id whose route carries the dossier's job, if planned.
    custodian
        Who holds it (see :func:`custodian_after`), ``None`` before the first event.
    site, lat, lon
        Where it was last seen: a site id, or a position in degrees.
    at
        Device time of the last applied event.
    failed_attempts
        How many delivery attempts failed.
    """

    direction: Direction
    status: Status
    assigned_courier: str | None = None
    custodian: str | None = None
    site: str | None = None
    lat: float | None = None
    lon: float | None = None
    at: datetime | None = None
    failed_attempts: int = 0

    @classmethod
    def initial(cls, direction: Direction, *, assigned_courier: str | None = None) -> DossierState:
        """Return the state of a dossier before any scan."""
        return cls(
            direction=direction,
            status=INITIAL_STATUS[direction],
            assigned_courier=assigned_courier,
        )


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """One scan, as the state machine sees it.

    Attributes
    ----------
    type
        The event type.
    at
        Device time (timezone-aware).
    actor
        User name of the scanner (the courier id for couriers).
    role
        The scanner's role.
    site, lat, lon
        Where the scan happened.
    seq
        The server's record order, breaking ties between equal device times.
    key
        An identifier the caller uses to find the event's outcome (the event id).
    """

    type: EventType
    at: datetime
    actor: str
    role: Role
    site: str | None = None
    lat: float | None = None
    lon: float | None = None
    seq: int = 0
    key: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of applying one event: the new state, and why it was not applied if so."""

    state: DossierState
    applied: bool
    reason: str | None = None


def transition_reason(state: DossierState, event: LifecycleEvent) -> str | None:
    """Return why ``event`` cannot be applied to ``state``, or ``None`` if it can.

    The checks are: the role may scan this event type (:data:`EVENT_ROLES`); the transition is
    in :data:`TRANSITIONS` (``returned`` from ``at_hub`` only after a failed attempt). Which
    courier may scan is an access rule checked when the scan arrives (:func:`access_reason`),
    not here: a dossier re-planned to another courier keeps the history its first courier made.
    """
    if event.role not in EVENT_ROLES[event.type]:
        return f"the {event.role} role may not scan '{event.type}'"
    key = (state.direction, state.status, event.type)
    if key not in TRANSITIONS:
        if state.status in FINAL_STATUSES:
            return f"the dossier is already '{state.status}', a final status"
        return f"'{event.type}' cannot follow '{state.status}' for a {state.direction} dossier"
    if event.type is _E.RETURNED and state.status is Status.AT_HUB and state.failed_attempts == 0:
        return "'returned' from 'at_hub' needs a failed delivery attempt first"
    return None


def access_reason(
    state: DossierState, *, role: Role, actor: str, event_type: EventType
) -> str | None:
    """Return why this user may not scan this dossier at all, or ``None`` if it may.

    A role scans only the event types of :data:`EVENT_ROLES`; a courier scans only a dossier
    whose job is on its route (``assigned_courier``) or that it holds (``custodian``).
    """
    if role not in EVENT_ROLES[event_type]:
        return f"the {role} role may not scan '{event_type}'"
    holds = state.custodian == f"courier:{actor}"
    if role is Role.COURIER and state.assigned_courier != actor and not holds:
        return f"courier {actor} is neither assigned this dossier nor holding it"
    return None


def apply_event(state: DossierState, event: LifecycleEvent) -> Outcome:
    """Apply one event to a dossier's state, if the life cycle allows it.

    Parameters
    ----------
    state
        The state before the event.
    event
        The scan to apply.

    Returns
    -------
    Outcome
        ``applied=True`` with the new status, custodian and place; or ``applied=False`` with the
        state unchanged and a reason a dispatcher understands.
    """
    reason = transition_reason(state, event)
    if reason is not None:
        return Outcome(state=state, applied=False, reason=reason)
    new_status = TRANSITIONS[(state.direction, state.status, event.type)]
    failed = state.failed_attempts + (1 if event.type is _E.DELIVERY_FAILED else 0)
    new_state = replace(
        state,
        status=new_status,
        custodian=custodian_after(event.type, actor=event.actor, site=event.site),
        site=event.site,
        lat=event.lat,
        lon=event.lon,
        at=event.at,
        failed_attempts=failed,
    )
    return Outcome(state=new_state, applied=True)


@dataclass(frozen=True, slots=True)
class Fold:
    """The result of :func:`derive_status`.

    Attributes
    ----------
    state
        The final state.
    outcomes
        For each event key, ``None`` if it was applied, else the reason it was not.
    order
        Event keys in the order they were folded (device time, then record order).
    """

    state: DossierState
    outcomes: Mapping[str, str | None] = field(default_factory=dict)
    order: tuple[str, ...] = ()


def fold_order(events: Iterable[LifecycleEvent]) -> list[LifecycleEvent]:
    """Sort events by device time, ties broken by the server's record order (``seq``)."""
    return sorted(events, key=lambda e: (e.at, e.seq))


def derive_status(initial: DossierState, events: Iterable[LifecycleEvent]) -> Fold:
    """Fold a dossier's events in device-time order into its current state.

    Parameters
    ----------
    initial
        The state before any scan (see :meth:`DossierState.initial`).
    events
        Every event of the dossier that may count (events void for other reasons, such as a
        future device time or a failed identity check, are left out by the caller).

    Returns
    -------
    Fold
        The final state and, for each event, whether it was applied or why not.
    """
    state = initial
    outcomes: dict[str, str | None] = {}
    order: list[str] = []
    for event in fold_order(events):
        outcome = apply_event(state, event)
        state = outcome.state
        outcomes[event.key] = outcome.reason
        order.append(event.key)
    return Fold(state=state, outcomes=outcomes, order=tuple(order))


def future_reason(at: datetime, now: datetime) -> str | None:
    """Return a reason if a device time lies too far in the server's future, else ``None``."""
    if at - now > FUTURE_TOLERANCE:
        minutes = (at - now).total_seconds() / 60
        return (
            f"device time {at.isoformat()} is {minutes:.0f} min ahead of the server clock "
            f"(tolerance {FUTURE_TOLERANCE.total_seconds() / 60:.0f} min)"
        )
    return None
