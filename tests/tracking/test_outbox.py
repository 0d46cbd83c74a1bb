"""Messages to citizens through a local gateway the test starts (harness/receiver.py).

The tiny day: D2 and D3 are results for home return (citizens 2 and 3), D1 a pickup."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from harness.receiver import receiving
from tests.tracking import helpers
from tests.tracking.conftest import World
from tests.tracking.helpers import at, scan
from tracking import ingest_scans
from tracking.models import Dossier, OutboxMessage
from tracking.outbox import MAX_ATTEMPTS, HttpGateway, collect_messages, opt_out, send_due


def _live_the_day(world: World, session: Session) -> None:
    """D2 delivered with the ID digits, D3's attempt failed; D1 collected (no message)."""
    staff = ingest_scans(
        session=session,
        events=[scan(c, "result_ready", "08:20", site="po-tvt") for c in ("D2", "D3")],
        actor=world.user("staff", session),
        now=at("08:21"),
    )
    c1 = ingest_scans(
        session=session,
        events=[
            scan("D1", "collected", "08:25", lat=9.05, lon=104.98),
            scan("D2", "out_for_delivery", "08:40", site="po-tvt"),
            scan("D2", "delivered", "13:05", proof={"id_last4": "1111"}),
        ],
        actor=world.user("c1", session),
        now=at("13:06"),
    )
    c2 = ingest_scans(
        session=session,
        events=[
            scan("D3", "out_for_delivery", "08:35", site="po-tvt"),
            scan("D3", "delivery_failed", "09:10", reason="Ấp 3 Khánh Bình, không có nhà"),
        ],
        actor=world.user("c2", session),
        now=at("13:06"),
    )
    assert {r.status for r in staff + c1 + c2} == {"stored"}


def _messages(session: Session) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def test_the_steps_a_citizen_cares_about_are_queued_once(world: World) -> None:
    """Ready, on the way (with the booked window), delivered, failed: one message each, and a
    second collection queues nothing."""
    with world.session() as session:
        _live_the_day(world, session)
        first = collect_messages(session=session, now=at("13:10"))
        again = collect_messages(session=session, now=at("13:11"))
        rows = _messages(session)
        codes = dict(session.execute(sa.select(col(Dossier.id), col(Dossier.code))).all())
    assert first == 6 and again == 0
    kinds = sorted((codes[r.dossier_id], r.kind) for r in rows)
    assert kinds == [
        ("D2", "delivered"), ("D2", "on_the_way"), ("D2", "result_ready"),
        ("D3", "delivery_failed"), ("D3", "on_the_way"), ("D3", "result_ready"),
    ]  # fmt: skip
    on_the_way = next(r for r in rows if codes[r.dossier_id] == "D2" and r.kind == "on_the_way")
    assert "13:00-17:00" in on_the_way.text
    assert {r.phone for r in rows if codes[r.dossier_id] == "D2"} == {"0987654321"}


def test_no_message_carries_personal_data(world: World) -> None:
    """No name, ID number, phone or address in any text (not even the courier's own words)."""
    with world.session() as session:
        _live_the_day(world, session)
        collect_messages(session=session, now=at("13:10"))
        texts = [r.text for r in _messages(session)]
    secrets = [helpers.ADDRESS_1, "Ấp 3", "Khánh Bình"]
    for citizen in (helpers.CITIZEN_1, helpers.CITIZEN_2, helpers.CITIZEN_3):
        secrets += [
            citizen["name"],
            citizen["id_number"],
            citizen["phone"],
            citizen["id_number"][-4:],
        ]
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)


def test_messages_reach_the_gateway_once_each_with_retries(world: World) -> None:
    """The gateway fails twice with 503: those two wait 30 s and go on the next round; every
    message arrives exactly once, keyed for idempotency."""
    with world.session() as session, receiving(fail_first=[503, 503]) as gateway:
        _live_the_day(world, session)
        collect_messages(session=session, now=at("13:10"))
        sender = HttpGateway(gateway.url, token="secret-token", timeout_s=5)
        first = send_due(session=session, sender=sender, now=at("13:10"), workers=1)
        early = send_due(session=session, sender=sender, now=at("13:10") + timedelta(seconds=10))
        later = send_due(session=session, sender=sender, now=at("13:10") + timedelta(seconds=31))
        rows = _messages(session)
    assert first == {"sent": 4, "retry": 2, "failed": 0}
    assert early == {"sent": 0, "retry": 0, "failed": 0}
    assert later == {"sent": 2, "retry": 0, "failed": 0}
    assert {r.status for r in rows} == {"sent"}
    delivered = gateway.delivered()
    assert sorted(b["id"] for b in delivered) == sorted(r.key for r in rows)
    request = gateway.received[0]
    assert request["headers"]["Idempotency-Key"] == request["body"]["id"]
    assert request["headers"]["Authorization"] == "Bearer secret-token"


def test_a_refusal_is_final_and_a_dead_gateway_gives_up(world: World) -> None:
    """A 400 is not retried; an unreachable gateway is tried MAX_ATTEMPTS times, then failed."""
    with world.session() as session:
        _live_the_day(world, session)
        collect_messages(session=session, now=at("13:10"))
        with receiving(fail_first=[400] + [200] * 5) as gateway:
            done = send_due(
                session=session, sender=HttpGateway(gateway.url), now=at("13:10"), workers=1
            )
        assert done == {"sent": 5, "retry": 0, "failed": 1}
        session.execute(sa.update(OutboxMessage).values(status="pending", attempts=0))
        session.commit()
        dead = HttpGateway("http://127.0.0.1:9/send", timeout_s=1)
        now = at("13:20")
        for _ in range(MAX_ATTEMPTS):
            send_due(session=session, sender=dead, now=now)
            now += timedelta(hours=2)
        rows = _messages(session)
    assert {r.status for r in rows} == {"failed"} and {r.attempts for r in rows} == {MAX_ATTEMPTS}


def test_an_opted_out_citizen_gets_nothing_more(world: World) -> None:
    """D3's citizen opts out: D3's waiting messages are cancelled and no new one is queued."""
    with world.session() as session:
        _live_the_day(world, session)
        collect_messages(session=session, now=at("13:10"))
        d3 = session.exec(select(Dossier).where(Dossier.code == "D3")).one()
        assert d3.id is not None
        opt_out(session=session, dossier_id=d3.id, now=at("13:12"))
        ingest_scans(
            session=session,
            events=[scan("D3", "out_for_delivery", "13:30", site="po-tvt")],
            actor=world.user("c2", session),
            now=at("13:31"),
        )
        queued = collect_messages(session=session, now=at("13:32"))
        rows = [r for r in _messages(session) if r.dossier_id == d3.id]
    assert queued == 0
    assert {r.status for r in rows} == {"cancelled"}
