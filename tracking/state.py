"""A dossier's state from its stored events: the fold, and the cached copy on the dossier row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from tracking.lifecycle import (
    Direction,
    DossierState,
    EventType,
    Fold,
    LifecycleEvent,
    Role,
    Status,
    derive_status,
)
from tracking.models import Dossier, ScanEvent


def dossier_state(dossier: Dossier) -> DossierState:
    """Return the state cached on a dossier row (as of its last fold)."""
    return DossierState(
        direction=Direction(dossier.direction),
        status=Status(dossier.status),
        assigned_courier=dossier.courier_id,
        custodian=dossier.custodian,
        site=dossier.place_site,
        lat=dossier.place_lat,
        lon=dossier.place_lon,
        at=dossier.status_at,
        failed_attempts=dossier.failed_attempts,
    )


def lifecycle_event(row: ScanEvent) -> LifecycleEvent:
    """Return the state machine's view of a stored scan (its key is the event id)."""
    return LifecycleEvent(
        type=EventType(row.type),
        at=row.device_at,
        actor=row.actor_name,
        role=Role(row.actor_role),
        site=row.site,
        lat=row.lat,
        lon=row.lon,
        seq=row.id or 0,
        key=row.event_id,
    )


def dossier_events(session: Session, dossier: Dossier) -> list[ScanEvent]:
    """Return every stored scan of a dossier, in the server's record order."""
    stmt = select(ScanEvent).where(ScanEvent.dossier_id == dossier.id).order_by(col(ScanEvent.id))
    return list(session.exec(stmt))


def fold_dossier(
    session: Session,
    dossier: Dossier,
    *,
    extra: Iterable[LifecycleEvent] = (),
    rows: list[ScanEvent] | None = None,
) -> Fold:
    """Fold a dossier's stored events (void ones left out), plus ``extra`` ones not yet stored.

    Parameters
    ----------
    session
        The database session.
    dossier
        The dossier.
    extra
        Events to fold in as if stored after every stored one (a batch being ingested).
    rows
        The dossier's stored events, if already loaded.
    """
    stored = dossier_events(session, dossier) if rows is None else rows
    events = [lifecycle_event(r) for r in stored if r.void_reason is None]
    events.extend(extra)
    initial = DossierState.initial(
        Direction(dossier.direction), assigned_courier=dossier.courier_id
    )
    return derive_status(initial, events)


def save_fold(session: Session, dossier: Dossier, fold: Fold, *, now: datetime) -> None:
    """Copy a fold's final state onto the dossier row (the cache read by views and checks)."""
    state = fold.state
    dossier.status = state.status.value
    dossier.custodian = state.custodian
    dossier.place_site = state.site
    dossier.place_lat = state.lat
    dossier.place_lon = state.lon
    dossier.status_at = state.at
    dossier.failed_attempts = state.failed_attempts
    dossier.updated_at = now
    session.add(dossier)
