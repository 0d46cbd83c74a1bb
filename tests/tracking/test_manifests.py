"""Shuttle manifests over the tiny day (D1 is planned onto po-tvt's 10:00 run, run-1000)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from tests.tracking import helpers
from tests.tracking.conftest import World
from tests.tracking.helpers import at, scan
from tracking import InvalidInput, ingest_scans
from tracking.lifecycle import EventType
from tracking.manifests import check_off, day_manifests, manifest
from tracking.models import Dossier, ScanEvent


def _tick(world: World, session: Session, codes: list[str], kind: EventType, hm: str) -> Any:
    """Tick ``codes`` on run-1000's manifest as the staff user at ``hm``."""
    return check_off(
        session=session,
        date=helpers.DATE,
        run="run-1000",
        codes=codes,
        event_type=kind,
        actor=world.user("staff", session),
        now=at(hm),
    )


def _hand_over_d1(world: World, session: Session) -> None:
    events = [
        scan("D1", "collected", "08:25", lat=9.05, lon=104.98),
        scan("D1", "at_hub", "08:50", site="po-tvt"),
    ]
    results = ingest_scans(
        session=session, events=events, actor=world.user("c1", session), now=at("08:51")
    )
    assert [r.status for r in results] == ["stored", "stored"]


def _scans_of(session: Session, code: str, kind: str) -> int:
    stmt = (
        sa.select(sa.func.count())
        .select_from(ScanEvent)
        .join(Dossier, col(Dossier.id) == col(ScanEvent.dossier_id))
        .where(col(Dossier.code) == code, col(ScanEvent.type) == kind)
    )
    return int(session.execute(stmt).scalar_one())


def test_the_planned_dossier_is_expected_and_missing_until_scanned(world: World) -> None:
    """Before the check-off D1 is expected on run-1000 and listed as missing."""
    with world.session() as session:
        sheet = manifest(session=session, date=helpers.DATE, run="run-1000", now=at("08:00"))
    assert [(x.code, x.expected, x.scanned, x.why) for x in sheet.lines] == [
        ("D1", True, False, "planned")
    ]
    assert [x.code for x in sheet.missing] == ["D1"] and sheet.unexpected == []
    assert sheet.departs == at("10:00") and sheet.from_site == "po-tvt"


def test_check_off_records_each_scan_once(world: World) -> None:
    """Ticking D1 records one on_shuttle scan; ticking it again records nothing; then the
    other end receives it."""
    with world.session() as session:
        _hand_over_d1(world, session)
        first = _tick(world, session, ["D1"], EventType.ON_SHUTTLE, "09:55")
        again = _tick(world, session, ["D1", "D1"], EventType.ON_SHUTTLE, "09:57")
        assert first.recorded == 1 and [r.status for r in first.results] == ["stored"]
        assert again.recorded == 0 and again.results == [] and again.already == ["D1"]
        assert _scans_of(session, "D1", "on_shuttle") == 1
        sheet = manifest(session=session, date=helpers.DATE, run="run-1000", now=at("10:01"))
        assert sheet.missing == [] and [x.code for x in sheet.not_received] == ["D1"]
        got = _tick(world, session, ["D1"], EventType.RECEIVED, "10:41")
        assert got.recorded == 1
        sheet = manifest(session=session, date=helpers.DATE, run="run-1000", now=at("10:42"))
        dossier = session.exec(sa.select(Dossier).where(Dossier.code == "D1")).scalar_one()
    assert sheet.not_received == [] and sheet.lines[0].received
    assert dossier.status == "received"


def test_a_dossier_left_behind_rolls_onto_the_next_run(world: World) -> None:
    """At the office after run-1000 left: missing from it, expected on run-1400; a phone scan
    at 13:50 counts for run-1400 and is 'not expected' on no other run."""
    with world.session() as session:
        _hand_over_d1(world, session)
        runs = {
            m.run: m for m in day_manifests(session=session, date=helpers.DATE, now=at("10:30"))
        }
        assert [x.code for x in runs["run-1000"].missing] == ["D1"]
        later = runs["run-1400"].lines
        assert [(x.code, x.expected, x.why) for x in later] == [("D1", True, "left_behind")]
        ingest_scans(
            session=session,
            events=[scan("D1", "on_shuttle", "13:50", site="po-tvt")],
            actor=world.user("staff", session),
            now=at("13:51"),
        )
        runs = {
            m.run: m for m in day_manifests(session=session, date=helpers.DATE, now=at("13:55"))
        }
    assert runs["run-1400"].lines[0].scanned and runs["run-1400"].missing == []
    assert runs["run-1000"].unexpected == []


def test_a_code_not_on_the_manifest_is_refused_and_nothing_recorded(world: World) -> None:
    """Ticking a dossier that is not on the list is an error naming it; nothing is stored."""
    with world.session() as session:
        with pytest.raises(InvalidInput, match="D3"):
            _tick(world, session, ["D1", "D3"], EventType.ON_SHUTTLE, "09:55")
        assert _scans_of(session, "D1", "on_shuttle") == 0


def test_a_dossier_scanned_onto_a_run_it_was_not_expected_on_is_listed(world: World) -> None:
    """D1, never handed over at the office, scanned onto the 14:00 run: 'scanned but not
    expected' on run-1400, still missing from run-1000."""
    with world.session() as session:
        results = ingest_scans(
            session=session,
            events=[scan("D1", "on_shuttle", "13:50", site="po-tvt")],
            actor=world.user("staff", session),
            now=at("13:51"),
        )
        assert results[0].status == "flagged"  # it skipped the office: kept, flagged
        runs = {
            m.run: m for m in day_manifests(session=session, date=helpers.DATE, now=at("13:55"))
        }
    assert [x.code for x in runs["run-1400"].unexpected] == ["D1"]
    assert [x.code for x in runs["run-1000"].missing] == ["D1"]
