"""Tracking follows the plan's journey: the next run from where the dossier is, and the time
the journey reaches the destination.

The test day of ``tests/tracking/helpers.py`` with D1 (job J1) bound for a department: run-1000
takes it from po-tvt to the centre (10:00 → 10:40), the inter-agency run ``dept-1100`` goes on
from the centre at 11:00 (15-minute margin: cut-off 10:45) and reaches ``dept`` at 11:20; a later
one, ``dept-1500``, reaches it at 15:20. The plan's hand-off names the journey
``run-1000 → dept-1100``, reaching dept at 11:20.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from tests.tracking import helpers
from tests.tracking.conftest import World
from tests.tracking.helpers import at, iso, scan
from tracking import create_user, ingest_scans, make_engine, public_track, store_plan, upgrade
from tracking.board import day_board
from tracking.expected import held_next_step
from tracking.manifests import manifest
from tracking.models import Dossier
from tracking.progress import next_step


def _dept_run(ident: str, departs: str, arrives: str) -> dict[str, Any]:
    return {
        "id": ident,
        "from_site": "centre",
        "to_site": "dept",
        "departs": departs,
        "arrives": arrives,
        "handoff_min": 15,
    }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The test day with D1 bound for ``dept`` by two runs, stored in a SQLite file."""
    engine = make_engine(f"sqlite:///{tmp_path / 'buuta.sqlite'}")
    upgrade(engine)
    request = helpers.request()
    request["sites"].append({"id": "dept", "kind": "department", "lat": 9.18, "lon": 105.15})
    request["shuttles"] += [
        _dept_run("dept-1100", "11:00", "11:20"),
        _dept_run("dept-1500", "15:00", "15:20"),
    ]
    request["jobs"][0]["destination_site"] = "dept"
    plan = helpers.plan()
    handoff = plan["routes"][0]["stops"][2]
    assert handoff["type"] == "handoff"
    handoff["journeys"] = {"J1": {"runs": ["run-1000", "dept-1100"], "reaches": iso("11:20")}}
    users = {}
    tokens = {}
    with Session(engine, expire_on_commit=False) as session:
        for name, role in (("disp", "dispatcher"), ("staff", "staff"), ("c1", "courier")):
            users[name], tokens[name] = create_user(session=session, name=name, role=role)
        store_plan(session=session, request=request, plan=plan, created_by="disp")
    yield World(engine=engine, users=users, tokens=tokens)
    engine.dispose()


def _scan(world: World, who: str, *events: Any) -> None:
    with world.session() as session:
        for event in events:
            (result,) = ingest_scans(
                session=session, events=[event], actor=world.user(who, session), now=at("23:00")
            )
            assert result.status == "stored", result.reason


def _step(world: World, now: str) -> dict[str, Any] | None:
    with world.session() as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == "D1")).one()
        return next_step(session=session, dossier=dossier, now=at(now))


def test_the_next_step_names_the_second_run_after_the_first_arrives(world: World) -> None:
    """At po-tvt D1 waits for run-1000 and is expected at dept at 11:20 (not at the centre at
    10:40); once off run-1000 at the centre (10:40, before the 10:45 cut-off) its next run is
    dept-1100, still expected at 11:20. The public look-up says the same time."""
    _scan(
        world,
        "c1",
        scan("D1", "collected", "08:05", lat=9.05, lon=104.98),
        scan("D1", "at_hub", "08:40", site="po-tvt"),
    )
    step = _step(world, "09:00")
    assert step is not None
    assert (step["run"], step["expected"], step["by"]) == ("run-1000", iso("11:20"), "shuttle")
    _scan(
        world,
        "staff",
        scan("D1", "on_shuttle", "10:00", site="po-tvt"),
        scan("D1", "at_hub", "10:40", site="centre"),
    )
    step = _step(world, "10:41")
    assert step is not None
    assert (step["next_step"], step["run"]) == ("received", "dept-1100")
    assert (step["planned"], step["expected"]) == (iso("11:20"), iso("11:20"))
    with world.session() as session:
        view = public_track(session=session, code="D1", phone_last4="5678", now=at("10:41"))
    assert view is not None and view["expected"] == iso("11:20")


def test_a_missed_connection_goes_on_by_the_earliest_journey_from_there(world: World) -> None:
    """Off run-1000 at the centre only at 10:50, after dept-1100's cut-off (10:45): the next
    run is dept-1500 and D1 is expected at dept at 15:20, planned 11:20."""
    _scan(
        world,
        "c1",
        scan("D1", "collected", "08:05", lat=9.05, lon=104.98),
        scan("D1", "at_hub", "08:40", site="po-tvt"),
    )
    _scan(
        world,
        "staff",
        scan("D1", "on_shuttle", "10:00", site="po-tvt"),
        scan("D1", "at_hub", "10:50", site="centre"),
    )
    step = _step(world, "10:55")
    assert step is not None
    assert (step["run"], step["planned"], step["expected"]) == (
        "dept-1500",
        iso("11:20"),
        iso("15:20"),
    )


def test_a_run_gone_without_the_dossier_moves_it_to_the_next_journey(world: World) -> None:
    """At the centre on time (10:40) but still there at 12:00, after dept-1100 left: the held
    step names dept-1500 and the time it reaches dept, 15:20 (not the next run's arrival
    somewhere on the way)."""
    _scan(
        world,
        "c1",
        scan("D1", "collected", "08:05", lat=9.05, lon=104.98),
        scan("D1", "at_hub", "08:40", site="po-tvt"),
    )
    _scan(
        world,
        "staff",
        scan("D1", "on_shuttle", "10:00", site="po-tvt"),
        scan("D1", "at_hub", "10:40", site="centre"),
    )
    with world.session() as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == "D1")).one()
        held = held_next_step(session=session, dossier=dossier, now=at("12:00"))
    assert held is not None
    assert (held["run"], held["expected"], held["late"]) == ("dept-1500", iso("15:20"), False)


def test_the_board_does_not_call_a_transfer_left_behind(world: World) -> None:
    """At 11:00 D1 sits at the centre between its two runs, an hour after run-1000 left po-tvt:
    the board lists no missed run for it; a dossier still at po-tvt then would be left behind."""
    _scan(
        world,
        "c1",
        scan("D1", "collected", "08:05", lat=9.05, lon=104.98),
        scan("D1", "at_hub", "08:40", site="po-tvt"),
    )
    with world.session() as session:
        board = day_board(session=session, date=helpers.DATE, now=at("11:00"))
    assert ("D1", "run_missed") in {(r.dossier.code, r.reason) for r in board.risks}
    _scan(
        world,
        "staff",
        scan("D1", "on_shuttle", "10:00", site="po-tvt"),
        scan("D1", "at_hub", "10:40", site="centre"),
    )
    with world.session() as session:
        board = day_board(session=session, date=helpers.DATE, now=at("11:00"))
    assert "D1" not in {r.dossier.code for r in board.risks}


def test_the_second_runs_manifest_expects_the_dossier(world: World) -> None:
    """The hand-over list of dept-1100 (leaving the centre) lists D1, planned on it through its
    journey, although its hand-off at po-tvt names run-1000."""
    with world.session() as session:
        sheet = manifest(session=session, date=helpers.DATE, run="dept-1100", now=at("08:00"))
    assert [(x.code, x.expected) for x in sheet.lines] == [("D1", True)]
