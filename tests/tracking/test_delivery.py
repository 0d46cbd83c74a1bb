"""Proof of identity at delivery: one-time codes and citizen ID digits (tracking/delivery.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.tracking.conftest import World
from tests.tracking.helpers import CITIZEN_2, at, scan
from tracking import (
    DeliveryCode,
    InvalidInput,
    NotFound,
    ScanEvent,
    ingest_scans,
    issue_delivery_code,
)


def _out_for_delivery(world: World, session: Session, code: str = "D2") -> None:
    """Bring a result to out_for_delivery with c1: ready at the post office, taken out."""
    ingest_scans(
        session=session,
        events=[scan(code, "result_ready", "08:00", site="po-tvt")],
        actor=world.user("staff", session),
        now=at("08:01"),
    )
    (result,) = ingest_scans(
        session=session,
        events=[scan(code, "out_for_delivery", "12:30", site="po-tvt")],
        actor=world.user("c1", session),
        now=at("12:31"),
    )
    assert result.dossier_status == "out_for_delivery"


def _deliver(
    world: World, session: Session, proof: dict[str, object] | None, hm: str = "13:05"
) -> tuple[str, str | None, str | None]:
    event = scan("D2", "delivered", hm, lat=9.02, lon=105.01, proof=proof)
    (result,) = ingest_scans(
        session=session, events=[event], actor=world.user("c1", session), now=at(hm)
    )
    return result.status, result.reason, result.dossier_status


def test_valid_one_time_code_delivers_once(world: World) -> None:
    """A fresh code delivers; the same code cannot deliver again (single use)."""
    with world.session() as session:
        _out_for_delivery(world, session)
        code = issue_delivery_code(session=session, code="D2", now=at("12:00"))
        assert len(code) == 6 and code.isdigit()
        assert _deliver(world, session, {"code": code}) == ("stored", None, "delivered")
        entry = session.exec(select(DeliveryCode)).one()
        assert entry.used_at == at("13:05")
        row = session.exec(select(ScanEvent).where(ScanEvent.type == "delivered")).one()
        assert row.proof_json == {"method": "code", "valid": True, "recipient_is_applicant": True}
        assert code not in repr(row.proof_json)


def test_used_code_is_refused(world: World) -> None:
    """A code consumed by one delivery is refused when it is presented again."""
    with world.session() as session:
        _out_for_delivery(world, session)
        code = issue_delivery_code(session=session, code="D2", now=at("12:00"))
        assert _deliver(world, session, {"code": code})[0] == "stored"
        status, reason, dossier_status = _deliver(world, session, {"code": code}, "13:20")
        assert (status, reason) == ("flagged", "the one-time code was already used")
        assert dossier_status == "delivered"


def test_expired_code_is_flagged(world: World) -> None:
    """A code older than its validity does not deliver: flagged, still out for delivery."""
    with world.session() as session:
        _out_for_delivery(world, session)
        code = issue_delivery_code(
            session=session, code="D2", now=at("12:00"), ttl=timedelta(minutes=30)
        )
        status, reason, dossier_status = _deliver(world, session, {"code": code})
        assert (status, dossier_status) == ("flagged", "out_for_delivery")
        assert reason == "the one-time code has expired; issue a new one"


def test_wrong_codes_use_up_the_tries(world: World) -> None:
    """Five wrong codes block the code; then even the right one is refused."""
    with world.session() as session:
        _out_for_delivery(world, session)
        code = issue_delivery_code(session=session, code="D2", now=at("12:00"))
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        reasons = [_deliver(world, session, {"code": wrong}, f"13:0{i}")[1] for i in range(5)]
        assert reasons[0] == "wrong one-time code (4 tries left)"
        assert reasons[4] == "wrong one-time code (0 tries left)"
        status, reason, dossier_status = _deliver(world, session, {"code": code}, "13:30")
        assert (status, dossier_status) == ("flagged", "out_for_delivery")
        assert reason == (
            "the one-time code is blocked after too many wrong tries; issue a new one"
        )


def test_new_code_replaces_the_old_one(world: World) -> None:
    """Issuing a new code makes the earlier one stop working."""
    with world.session() as session:
        _out_for_delivery(world, session)
        old = issue_delivery_code(session=session, code="D2", now=at("12:00"))
        new = issue_delivery_code(session=session, code="D2", now=at("12:10"))
        if old != new:
            assert _deliver(world, session, {"code": old})[0] == "flagged"
        assert _deliver(world, session, {"code": new}, "13:10")[0] == "stored"


def test_citizen_id_digits_deliver_and_wrong_digits_do_not(world: World) -> None:
    """The last 4 digits of the applicant's ID deliver; other digits are flagged."""
    with world.session() as session:
        _out_for_delivery(world, session)
        right = CITIZEN_2["id_number"][-4:]
        wrong = f"{(int(right) + 1) % 10_000:04d}"
        status, reason, _ = _deliver(world, session, {"id_last4": wrong})
        assert status == "flagged"
        assert reason == "the citizen ID digits do not match the applicant's (4 tries left)"
        assert _deliver(world, session, {"id_last4": right}, "13:10")[::2] == (
            "stored",
            "delivered",
        )


def test_someone_else_receiving_needs_a_name(world: World) -> None:
    """A recipient who is not the applicant must give a name, which is kept with the proof."""
    with world.session() as session:
        _out_for_delivery(world, session)
        digits = CITIZEN_2["id_number"][-4:]
        status, reason, _ = _deliver(
            world, session, {"id_last4": digits, "recipient_is_applicant": False}
        )
        assert (status, reason) == (
            "flagged",
            "proof.recipient_name is needed when the recipient is not the applicant",
        )
        proof = {
            "id_last4": digits,
            "recipient_is_applicant": False,
            "recipient_name": "Trần Văn Dũng",
        }
        assert _deliver(world, session, proof, "13:10")[0] == "stored"
        row = session.exec(
            select(ScanEvent)
            .where(ScanEvent.flagged == False)  # noqa: E712
            .where(ScanEvent.type == "delivered")
        ).one()
        assert row.proof_json == {
            "method": "id_last4",
            "valid": True,
            "recipient_is_applicant": False,
            "recipient_name": "Trần Văn Dũng",
        }


def test_delivery_without_proof_is_flagged(world: World) -> None:
    """A 'delivered' scan with no proof is kept, flagged, and leaves the result out."""
    with world.session() as session:
        _out_for_delivery(world, session)
        status, reason, dossier_status = _deliver(world, session, None)
        assert (status, dossier_status) == ("flagged", "out_for_delivery")
        assert reason is not None and reason.startswith("a 'delivered' scan needs proof")


def test_issue_code_refuses_pickups_and_unknown_dossiers(world: World) -> None:
    """Codes are for results only: a pickup is InvalidInput, an unknown code NotFound."""
    with world.session() as session:
        with pytest.raises(InvalidInput, match="is a pickup"):
            issue_delivery_code(session=session, code="D1")
        with pytest.raises(NotFound, match="code: no dossier with this code"):
            issue_delivery_code(session=session, code="NOPE")


def test_only_the_code_hash_is_stored(
    tmp_path: Path, sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code handed to the citizen is not in the database files; its salted hash is."""
    monkeypatch.setattr("tracking.delivery.secrets.randbelow", lambda _n: 739184)
    with sqlite_world.session() as session:
        code = issue_delivery_code(session=session, code="D2", now=at("12:00"))
        assert code == "739184"
        entry = session.exec(select(DeliveryCode)).one()
        assert len(entry.code_hash) == 64 and code not in entry.code_hash + entry.salt
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("buuta.sqlite*"))
    assert entry.code_hash.encode() in raw
    assert code.encode() not in raw
