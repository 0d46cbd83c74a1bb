"""A dossier's state from its stored events: the fold, and the cached copy on the dossier row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
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


_FOLD_COLUMNS = (
    ScanEvent.dossier_id,
    ScanEvent.id,
    ScanEvent.event_id,
    ScanEvent.type,
    ScanEvent.device_at,
    ScanEvent.actor_name,
    ScanEvent.actor_role,
    ScanEvent.site,
    ScanEvent.lat,
    ScanEvent.lon,
)


def counting_events(
    session: Session, dossier_ids: Iterable[int]
) -> dict[int, list[LifecycleEvent]]:
    """Return, per dossier, its stored events that count (not void), read in one query.

    Reads only the columns the state machine needs, without building ORM objects: the hot path
    of ingestion.
    """
    ids = list(dossier_ids)
    out: dict[int, list[LifecycleEvent]] = {i: [] for i in ids}
    if not ids:
        return out
    stmt = (
        sa.select(*(col(c) for c in _FOLD_COLUMNS))
        .where(col(ScanEvent.dossier_id).in_(ids), col(ScanEvent.void_reason).is_(None))
        .order_by(col(ScanEvent.id))
    )
    for dossier_id, seq, event_id, type_, at, actor, role, site, lat, lon in session.execute(stmt):
        out[dossier_id].append(
            LifecycleEvent(
                type=EventType(type_),
                at=at,
                actor=actor,
                role=Role(role),
                site=site,
                lat=lat,
                lon=lon,
                seq=seq,
                key=event_id,
            )
        )
    return out


def fold_dossier(
    session: Session,
    dossier: Dossier,
    *,
    extra: Iterable[LifecycleEvent] = (),
    rows: list[ScanEvent] | None = None,
    counting: list[LifecycleEvent] | None = None,
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
    counting
        The dossier's stored events that count, if already loaded (:func:`counting_events`).
    """
    if counting is not None:
        events = list(counting)
    else:
        stored = dossier_events(session, dossier) if rows is None else rows
        events = [lifecycle_event(r) for r in stored if r.void_reason is None]
    events.extend(extra)
    initial = DossierState.initial(
        Direction(dossier.direction), assigned_courier=dossier.courier_id
    )
    return derive_status(initial, events)


def fold_values(fold: Fold, *, now: datetime) -> dict[str, object]:
    """Return the dossier columns that cache a fold's final state."""
    state = fold.state
    return {
        "status": state.status.value,
        "custodian": state.custodian,
        "place_site": state.site,
        "place_lat": state.lat,
        "place_lon": state.lon,
        "status_at": state.at,
        "failed_attempts": state.failed_attempts,
        "updated_at": now,
    }


def save_folds(session: Session, folds: Iterable[tuple[Dossier, Fold]], *, now: datetime) -> None:
    """Write many dossiers' folded state in one statement and update the loaded objects.

    The objects' attributes are set as already committed, so the session does not write them a
    second time.
    """
    params: list[dict[str, object]] = []
    for dossier, fold in folds:
        values = fold_values(fold, now=now)
        for key, value in values.items():
            set_committed_value(dossier, key, value)
        params.append({"b_id": dossier.id, **{f"b_{k}": v for k, v in values.items()}})
    if not params:
        return
    columns = [k for k in params[0] if k != "b_id"]
    stmt = (
        sa.update(Dossier)
        .where(col(Dossier.id) == sa.bindparam("b_id"))
        .values({k[2:]: sa.bindparam(k) for k in columns})
    )
    session.connection().execute(stmt, params)


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
