"""Ingestion of scans: idempotency, conflicts, out-of-order batches, flags, access rules.

Every test runs on a SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, func, select

from tests.tracking.conftest import World
from tests.tracking.helpers import at, scan
from tracking import (
    Dossier,
    Forbidden,
    InvalidInput,
    ScanEvent,
    ScanInput,
    dossier_view,
    ingest_scans,
    write_lock,
)
from tracking.scans import pending_batches


def _count_events(session: Session, event_id: str | None = None) -> int:
    stmt = select(func.count()).select_from(ScanEvent)
    if event_id is not None:
        stmt = stmt.where(ScanEvent.event_id == event_id)
    return int(session.exec(stmt).one())


def _status(session: Session, code: str) -> str:
    return session.exec(select(Dossier.status).where(Dossier.code == code)).one()


def test_same_event_twice_is_stored_once(world: World) -> None:
    """The same event sent twice is 'stored' then 'duplicate' with the first answer; one row."""
    event = scan("D1", "collected", "08:05", lat=9.05, lon=104.98, job="J1")
    with world.session() as session:
        c1 = world.user("c1", session)
        first = ingest_scans(session=session, events=[event], actor=c1, now=at("09:00"))
        again = ingest_scans(session=session, events=[event], actor=c1, now=at("09:30"))
        assert [(r.status, r.dossier_status) for r in first] == [("stored", "collected")]
        assert [(r.status, r.first_status, r.reason) for r in again] == [
            ("duplicate", "stored", None)
        ]
        assert _count_events(session) == 1


def test_same_event_id_with_other_content_is_a_conflict(world: World) -> None:
    """Reusing an event_id for a different scan answers 'conflict' and writes nothing."""
    event = scan("D1", "collected", "08:05", lat=9.05, lon=104.98)
    other = ScanInput(
        event_id=event.event_id,
        dossier="D1",
        type="collected",
        at=at("08:06"),
        lat=9.05,
        lon=104.98,
    )
    with world.session() as session:
        c1 = world.user("c1", session)
        ingest_scans(session=session, events=[event], actor=c1, now=at("09:00"))
        (result,) = ingest_scans(session=session, events=[other], actor=c1, now=at("09:00"))
        assert result.status == "conflict"
        assert "with different content" in (result.reason or "")
        assert result.as_json()["status"] == "conflict"
        assert _count_events(session) == 1


def test_repeats_inside_one_batch(world: World) -> None:
    """Within one batch, a repeated event is a duplicate and a clashing one a conflict."""
    event = scan("D1", "collected", "08:05", lat=9.05, lon=104.98)
    clash = ScanInput(
        event_id=event.event_id,
        dossier="D1",
        type="collected",
        at=at("08:07"),
        lat=9.05,
        lon=104.98,
    )
    with world.session() as session:
        results = ingest_scans(
            session=session,
            events=[event, event, clash],
            actor=world.user("c1", session),
            now=at("09:00"),
        )
        assert [r.status for r in results] == ["stored", "duplicate", "conflict"]
        assert results[1].first_status == "stored"
        assert _count_events(session) == 1


def test_out_of_order_offline_batch_ends_in_the_right_status(world: World) -> None:
    """A phone's offline batch, sent newest first and after staff scans, folds by device time."""
    with world.session() as session:
        c1, staff = world.user("c1", session), world.user("staff", session)
        hub = scan("D1", "at_hub", "08:32", site="po-tvt")
        collected = scan("D1", "collected", "08:04", lat=9.05, lon=104.98)
        # Staff put it on the shuttle while the courier's phone was offline …
        shuttle = scan("D1", "on_shuttle", "09:55", site="po-tvt")
        (early,) = ingest_scans(session=session, events=[shuttle], actor=staff, now=at("09:56"))
        assert (early.status, early.dossier_status) == ("flagged", "requested")
        # … then the phone reconnects and sends its two scans, newest first.
        results = ingest_scans(session=session, events=[hub, collected], actor=c1, now=at("10:05"))
        assert [r.status for r in results] == ["stored", "stored"]
        assert _status(session, "D1") == "on_shuttle"
        view = dossier_view(session=session, code="D1", now=at("10:05"))
        assert view is not None
        assert [h["type"] for h in view["history"]] == ["collected", "at_hub", "on_shuttle"]
        assert all(h["applied"] for h in view["history"])
        assert view["history"][2]["flagged"] is True  # the answer it got when it arrived
        assert view["custodian"] == "shuttle:po-tvt"


def test_event_breaking_the_life_cycle_is_kept_and_flagged(world: World) -> None:
    """Delivering a result that was never taken out is stored, flagged, and changes nothing."""
    with world.session() as session:
        c1 = world.user("c1", session)
        bad = scan("D2", "delivery_failed", "09:00", reason="not at home")
        (result,) = ingest_scans(session=session, events=[bad], actor=c1, now=at("09:01"))
        assert result.status == "flagged"
        assert result.reason == (
            "'delivery_failed' cannot follow 'processing' for a return dossier"
        )
        assert _status(session, "D2") == "processing"
        row = session.exec(select(ScanEvent).where(ScanEvent.event_id == bad.event_id)).one()
        assert row.flagged and row.flag_reason == result.reason


def test_future_device_time_is_flagged_and_never_counts(world: World) -> None:
    """An event an hour in the server's future is stored, flagged and left out of the status."""
    with world.session() as session:
        c1 = world.user("c1", session)
        future = scan("D1", "collected", "10:00", lat=9.05, lon=104.98)
        (result,) = ingest_scans(session=session, events=[future], actor=c1, now=at("09:00"))
        assert result.status == "flagged" and "ahead of the server clock" in (result.reason or "")
        later = scan("D1", "at_hub", "10:30", site="po-tvt")
        (second,) = ingest_scans(session=session, events=[later], actor=c1, now=at("11:00"))
        assert second.status == "flagged"  # the future 'collected' still does not count
        assert _status(session, "D1") == "requested"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (dict(dossier="NOPE"), "events[1].dossier: no dossier with this code"),
        (dict(site="po-xyz"), "events[1].site: no site with this id"),
        (dict(job="J9"), "events[1].job: this dossier is planned as job 'J1'"),
    ],
)
def test_unknown_dossier_site_or_job_rejects_the_batch(
    world: World, event: dict[str, str], message: str
) -> None:
    """A batch naming an unknown dossier, site or job raises InvalidInput; nothing is written."""
    fields = {"dossier": "D1", "site": "po-tvt"} | event
    bad = scan(fields.pop("dossier"), "at_hub", "08:30", **fields)
    good = scan("D1", "collected", "08:05", lat=9.05, lon=104.98)
    with world.session() as session:
        with pytest.raises(InvalidInput) as caught:
            ingest_scans(
                session=session,
                events=[good, bad],
                actor=world.user("staff", session),
                now=at("09:00"),
            )
        assert str(caught.value) == message
        assert _count_events(session) == 0


def test_a_courier_cannot_tell_unknown_dossiers_from_other_couriers(world: World) -> None:
    """For a courier, an unknown code, another courier's dossier, and another courier's
    dossier with a wrong job or site all raise the same Forbidden: no code or job id leaks."""
    cases = [
        scan("NOPE", "at_hub", "08:30", site="po-tvt"),
        scan("D1", "at_hub", "08:30", site="po-tvt"),
        scan("D1", "at_hub", "08:30", site="po-xyz"),
        scan("D1", "at_hub", "08:30", site="po-tvt", job="J9"),
    ]
    messages = set()
    with world.session() as session:
        for bad in cases:
            with pytest.raises(Forbidden) as caught:
                ingest_scans(
                    session=session, events=[bad], actor=world.user("c2", session), now=at("09:00")
                )
            messages.add(str(caught.value))
        assert _count_events(session) == 0
    assert messages == {"events[0]: courier c2 is neither assigned this dossier nor holding it"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "teleported"}, "events[0].type: not an event type"),
        ({"at": "2026-11-23T08:00:00"}, "events[0].at: the time has no UTC offset"),
        ({"lat": 95.0, "lon": 105.0}, "events[0].lat, lon: lat must be within [-90, 90]"),
        ({"lat": 9.0}, "events[0].lat, lon: give both or neither"),
        ({"type": "at_hub"}, "events[0].site: a 'at_hub' scan happens at a site"),
        ({"type": "delivery_failed"}, "events[0].reason: a 'delivery_failed' scan needs a reason"),
        ({"colour": "red"}, "events[0].colour: unknown field"),
        ({"event_id": None}, "events[0].event_id: missing"),
    ],
)
def test_malformed_event_names_the_field(fields: dict[str, object], message: str) -> None:
    """ScanInput.from_json raises InvalidInput whose message starts with the field's path."""
    data: dict[str, object] = {
        "event_id": "e-1",
        "dossier": "D1",
        "type": "collected",
        "at": "2026-11-23T08:00:00+07:00",
    }
    data.update(fields)
    with pytest.raises(InvalidInput) as caught:
        ScanInput.from_json(data, where="events[0]")
    assert str(caught.value).startswith(message)


def test_courier_cannot_scan_another_couriers_dossier(world: World) -> None:
    """c2 scanning c1's dossier raises Forbidden and writes nothing, even with a good event."""
    with world.session() as session:
        c2 = world.user("c2", session)
        mine = scan("D3", "out_for_delivery", "08:35", site="po-tvt")
        theirs = scan("D1", "collected", "08:05", lat=9.05, lon=104.98)
        with pytest.raises(Forbidden, match=r"events\[1\]: courier c2 is neither assigned"):
            ingest_scans(session=session, events=[mine, theirs], actor=c2, now=at("09:00"))
        assert _count_events(session) == 0


@pytest.mark.parametrize(
    ("role_user", "event_type", "site"),
    [("disp", "at_hub", "po-tvt"), ("staff", "collected", None), ("c1", "received", "centre")],
)
def test_roles_that_may_not_scan_an_event_type(
    world: World, role_user: str, event_type: str, site: str | None
) -> None:
    """Dispatchers scan nothing, staff do not collect at homes, couriers do not 'receive'."""
    with world.session() as session:
        event = scan("D1", event_type, "08:05", site=site)
        with pytest.raises(Forbidden, match="role may not scan"):
            ingest_scans(
                session=session,
                events=[event],
                actor=world.user(role_user, session),
                now=at("09:00"),
            )


def test_courier_holding_a_dossier_may_scan_it_after_a_replan(world: World) -> None:
    """Custody counts: a courier holding a result still scans it after it is planned elsewhere."""
    with world.session() as session:
        c1, staff = world.user("c1", session), world.user("staff", session)
        ingest_scans(
            session=session,
            events=[scan("D2", "result_ready", "08:00", site="po-tvt")],
            actor=staff,
            now=at("08:01"),
        )
        ingest_scans(
            session=session,
            events=[scan("D2", "out_for_delivery", "08:40", site="po-tvt")],
            actor=c1,
            now=at("08:41"),
        )
        dossier = session.exec(select(Dossier).where(Dossier.code == "D2")).one()
        dossier.courier_id = "c2"  # re-planned to c2 while c1 carries it
        session.add(dossier)
        session.commit()
        failed = scan("D2", "delivery_failed", "13:05", reason="nobody home")
        (result,) = ingest_scans(session=session, events=[failed], actor=c1, now=at("13:06"))
        assert (result.status, result.dossier_status) == ("stored", "delivery_failed")


def test_fifty_threads_sending_one_event_store_one_row(world: World) -> None:
    """50 concurrent sends of the same event: one row, one 'stored', 49 'duplicate'."""
    event = scan("D1", "collected", "08:05", lat=9.05, lon=104.98)
    answers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)
    lock = threading.Lock()

    def send() -> None:
        try:
            with Session(world.engine) as session:
                actor = world.user("c1", session)
                session.commit()  # give the connection back to the pool while waiting
                barrier.wait()
                (result,) = ingest_scans(
                    session=session, events=[event], actor=actor, now=at("09:00")
                )
            with lock:
                answers.append(result.status)
        except BaseException as exc:  # surfaced below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Counter(answers) == {"stored": 1, "duplicate": 49}
    with world.session() as session:
        assert _count_events(session, event.event_id) == 1
        assert _status(session, "D1") == "collected"


def test_concurrent_batches_for_one_dossier_fold_to_the_right_status(world: World) -> None:
    """Courier and staff send a dossier's scans at once from 2 threads x 3 rounds: final status
    is the fold of all events, and every event is stored exactly once."""
    courier_events = [
        scan("D1", "collected", "08:05", lat=9.05, lon=104.98),
        scan("D1", "at_hub", "08:30", site="po-tvt"),
    ]
    staff_events = [
        scan("D1", "on_shuttle", "09:55", site="po-tvt"),
        scan("D1", "received", "10:40", site="centre"),
    ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(name: str, events: list[ScanInput]) -> None:
        try:
            with Session(world.engine) as session:
                actor = world.user(name, session)
                barrier.wait()
                for _ in range(3):
                    ingest_scans(session=session, events=events, actor=actor, now=at("11:00"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=send, args=("c1", courier_events)),
        threading.Thread(target=send, args=("staff", staff_events)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with world.session() as session:
        assert _count_events(session) == 4
        assert _status(session, "D1") == "received"


def test_acknowledged_batch_is_committed(world: World) -> None:
    """Once ingest_scans returns, a brand-new session (another connection) sees every event."""
    events = [
        scan("D1", "collected", "08:05", lat=9.05, lon=104.98),
        scan("D1", "at_hub", "08:30", site="po-tvt"),
    ]
    with world.session() as session:
        ingest_scans(
            session=session, events=events, actor=world.user("c1", session), now=at("09:00")
        )
    world.engine.dispose()
    with world.session() as session:
        ids = set(
            session.exec(
                select(ScanEvent.event_id).where(
                    col(ScanEvent.event_id).in_([e.event_id for e in events])
                )
            )
        )
        assert ids == {e.event_id for e in events}


def test_recorded_time_is_kept_beside_device_time(world: World) -> None:
    """Each stored event keeps the device time and the server's record time."""
    event = scan("D1", "collected", "08:05", lat=9.05, lon=104.98)
    with world.session() as session:
        ingest_scans(
            session=session,
            events=[event],
            actor=world.user("c1", session),
            now=at("09:00") + timedelta(seconds=7),
        )
        row = session.exec(select(ScanEvent)).one()
        assert row.device_at == at("08:05")
        assert row.recorded_at == at("09:00") + timedelta(seconds=7)
        assert (row.actor_name, row.actor_role, row.custodian_after) == (
            "c1",
            "courier",
            "courier:c1",
        )


def test_sqlite_group_commit_shares_one_commit_and_keeps_refused_batches_apart(
    sqlite_world: World,
) -> None:
    """Batches queued while the writer lock is busy are ingested together with one commit; a
    refused batch among them raises for its sender only and writes nothing."""
    engine = sqlite_world.engine
    commits: list[int] = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    users = sqlite_world.users
    sends = {
        "c1": (users["c1"], [scan("D1", "collected", "08:05", lat=9.05, lon=104.98)]),
        "staff2": (users["staff"], [scan("D2", "result_ready", "08:00", site="po-tvt")]),
        "staff3": (users["staff"], [scan("D3", "result_ready", "08:00", site="po-tvt")]),
        "c2": (users["c2"], [scan("D2", "out_for_delivery", "08:40", site="po-tvt")]),
    }
    outcomes: dict[str, object] = {}

    def send(name: str) -> None:
        actor, events = sends[name]
        with Session(engine) as session:
            try:
                outcomes[name] = ingest_scans(
                    session=session, events=events, actor=actor, now=at("09:00")
                )
            except Forbidden as exc:
                outcomes[name] = exc

    threads = [threading.Thread(target=send, args=(name,)) for name in sends]
    with write_lock(engine):
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 300  # ends once all wait; only a hang reaches it
        while pending_batches(engine) < len(sends) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pending_batches(engine) == len(sends)
    for thread in threads:
        thread.join()
    assert len(commits) == 1
    assert isinstance(outcomes["c2"], Forbidden)
    for name in ("c1", "staff2", "staff3"):
        results = outcomes[name]
        assert isinstance(results, list) and results[0].status == "stored"
    with Session(engine) as session:
        assert _count_events(session) == 3
        assert _status(session, "D2") == "result_ready"
