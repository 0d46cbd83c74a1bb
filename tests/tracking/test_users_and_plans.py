"""Users and tokens, stored plans, dossier registration and courier stop lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.tracking import helpers
from tests.tracking.conftest import World
from tracking import (
    CitizenContact,
    Dossier,
    InvalidInput,
    NotFound,
    StoredPlan,
    User,
    courier_stops,
    create_user,
    get_plan,
    list_plans,
    plan_for_courier,
    store_plan,
    user_for_token,
)
from tracking.hashing import token_hash


def _database_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_token_is_returned_once_and_only_its_hash_is_stored(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    """create_user returns a token that authenticates; the database holds only its hash."""
    with Session(sqlite_engine) as session:
        user, token = create_user(session=session, name="c1", role="courier")
        assert len(token) >= 40
        assert user.token_hash == token_hash(token)
        found = user_for_token(session=session, token=token)
        assert found is not None and found.name == "c1" and found.role == "courier"
        assert user_for_token(session=session, token=token + "x") is None
        assert user_for_token(session=session, token="") is None
    assert token.encode() not in _database_bytes(tmp_path / "buuta.sqlite")


def test_revoked_user_is_not_authenticated(sqlite_engine: Engine) -> None:
    """A user marked inactive no longer authenticates with its token."""
    with Session(sqlite_engine) as session:
        user, token = create_user(session=session, name="old", role="staff")
        user.active = False
        session.add(user)
        session.commit()
        assert user_for_token(session=session, token=token) is None


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [
        ("c1", "driver", "role: unknown role 'driver'"),
        ("", "staff", "name: '' is not a valid user name"),
        ("a b", "staff", "name: 'a b' is not a valid user name"),
    ],
)
def test_create_user_rejects_bad_input(
    sqlite_engine: Engine, name: str, role: str, message: str
) -> None:
    """An unknown role or malformed name raises InvalidInput naming the field."""
    with Session(sqlite_engine) as session, pytest.raises(InvalidInput) as caught:
        create_user(session=session, name=name, role=role)
    assert str(caught.value).startswith(message)


def test_create_user_rejects_a_taken_name(sqlite_engine: Engine) -> None:
    """Two users cannot share a name (a courier's name is its courier id)."""
    with Session(sqlite_engine) as session:
        create_user(session=session, name="c1", role="courier")
        with pytest.raises(InvalidInput, match="name: a user named 'c1' already exists"):
            create_user(session=session, name="c1", role="staff")


def test_store_plan_registers_dossiers_and_keeps_personal_data_apart(world: World) -> None:
    """Dossiers get direction, courier and job; contacts hold citizen data; the request none."""
    with world.session() as session:
        dossiers = {d.code: d for d in session.exec(select(Dossier))}
        assert {
            c: (d.direction, d.status, d.courier_id, d.job_id) for c, d in dossiers.items()
        } == {
            "D1": ("pickup", "requested", "c1", "J1"),
            "D2": ("return", "processing", "c1", "J2"),
            "D3": ("return", "processing", "c2", "J3"),
        }
        assert dossiers["D1"].procedure == "Cấp đổi giấy phép lái xe"
        assert dossiers["D2"].due_date == "2026-11-24"
        contact = session.exec(
            select(CitizenContact).where(CitizenContact.dossier_id == dossiers["D1"].id)
        ).one()
        assert (contact.name, contact.phone, contact.address) == (
            helpers.CITIZEN_1["name"],
            helpers.CITIZEN_1["phone"],
            helpers.ADDRESS_1,
        )
        assert contact.id_hash and contact.id_last4_hash and contact.phone_last4_hash
        stored = get_plan(session=session, plan_id="plan-1")
        text = repr(stored.request_json) + repr(stored.plan_json)
        for citizen in (helpers.CITIZEN_1, helpers.CITIZEN_2, helpers.CITIZEN_3):
            for value in citizen.values():
                assert value not in text
        assert helpers.ADDRESS_1 not in text
        assert stored.plan_json == helpers.plan()


def test_citizen_id_number_is_never_stored(tmp_path: Path, sqlite_world: World) -> None:
    """The raw citizen ID number appears nowhere in the database files (only salted hashes)."""
    raw = _database_bytes(tmp_path / "buuta.sqlite")
    for citizen in (helpers.CITIZEN_1, helpers.CITIZEN_2, helpers.CITIZEN_3):
        assert citizen["id_number"].encode() not in raw
    assert helpers.CITIZEN_1["name"].encode() in raw  # the contact itself is stored


def test_get_and_list_plans(world: World) -> None:
    """get_plan finds a plan by id (NotFound otherwise); list_plans lists a day's, newest first."""
    with world.session() as session:
        store_plan(
            session=session,
            request=helpers.request(),
            plan=helpers.plan("plan-2"),
            created_by="disp",
        )
        assert [p.id for p in list_plans(session=session, date=helpers.DATE)] == [
            "plan-2",
            "plan-1",
        ]
        assert list_plans(session=session, date="2026-11-24") == []
        with pytest.raises(NotFound, match="plan_id: no plan with this id"):
            get_plan(session=session, plan_id="nope")
        with pytest.raises(InvalidInput, match="date: expected a date as YYYY-MM-DD"):
            list_plans(session=session, date="23/11/2026")


def test_store_plan_rejects_bad_plans(world: World) -> None:
    """A taken plan id, a job without dossier, a dossier in the other direction or twice, or a
    malformed plan (a stop's time that is not a time) fails, naming the field."""
    with world.session() as session:
        with pytest.raises(InvalidInput, match=r"plan\.plan_id: a plan 'plan-1' is already stored"):
            store_plan(
                session=session, request=helpers.request(), plan=helpers.plan(), created_by="disp"
            )
        request = helpers.request()
        del request["jobs"][1]["dossier"]
        with pytest.raises(InvalidInput, match=r"jobs\[1\]\.dossier: missing"):
            store_plan(
                session=session, request=request, plan=helpers.plan("p-x"), created_by="disp"
            )
        request = helpers.request()
        request["jobs"][0]["kind"] = "return"
        with pytest.raises(InvalidInput, match=r"jobs\[0\]\.dossier: D1 is already registered"):
            store_plan(
                session=session, request=request, plan=helpers.plan("p-y"), created_by="disp"
            )
        request = helpers.request()
        request["jobs"][2]["dossier"] = "D2"
        with pytest.raises(
            InvalidInput, match=r"jobs\[2\]\.dossier: D2 is also the dossier of jobs\[1\]"
        ):
            store_plan(
                session=session, request=request, plan=helpers.plan("p-z"), created_by="disp"
            )
        plan = helpers.plan("p-w")
        plan["routes"][0]["stops"][1]["start"] = "soon"
        with pytest.raises(InvalidInput, match=r"plan\.routes\[0\]\.stops\[1\]\.start: 'soon'"):
            store_plan(session=session, request=helpers.request(), plan=plan, created_by="disp")
        for plan_id in ("p-x", "p-y", "p-z", "p-w"):
            assert session.get(StoredPlan, plan_id) is None


def test_replan_moves_a_dossier_to_another_courier(world: World) -> None:
    """A later plan that gives J2 to c2 takes over the dossier's assignment and stop lists."""
    plan = helpers.plan("plan-2")
    c1, c2 = plan["routes"]
    moved = [s for s in c1["stops"] if s.get("job") == "J2" or "J2" in s.get("jobs", [])]
    c1["stops"] = [s for s in c1["stops"] if s not in moved]
    c2["stops"] = c2["stops"][:-1] + moved + c2["stops"][-1:]
    with world.session() as session:
        store_plan(session=session, request=helpers.request(), plan=plan, created_by="disp")
        dossier = session.exec(select(Dossier).where(Dossier.code == "D2")).one()
        assert (dossier.courier_id, dossier.plan_id) == ("c2", "plan-2")
        c2_jobs = [
            s.get("job") for s in courier_stops(session=session, courier_id="c2", date=helpers.DATE)
        ]
        assert "J2" in c2_jobs
        c1_jobs = [
            s.get("job") for s in courier_stops(session=session, courier_id="c1", date=helpers.DATE)
        ]
        assert "J2" not in c1_jobs


def test_a_newer_plan_without_jobs_for_a_courier_wins(world: World) -> None:
    """A re-plan that leaves c2 only its start and end replaces c2's older stop list."""
    plan = helpers.plan("plan-2")
    c1, c2 = plan["routes"]
    j3 = [s for s in c2["stops"] if s.get("job") == "J3" or "J3" in s.get("jobs", [])]
    c2["stops"] = [s for s in c2["stops"] if s not in j3]
    c1["stops"] = c1["stops"][:-1] + j3 + c1["stops"][-1:]
    with world.session() as session:
        before = plan_for_courier(session=session, courier_id="c2", date=helpers.DATE)
        assert before is not None and before.id == "plan-1"
        store_plan(session=session, request=helpers.request(), plan=plan, created_by="disp")
        after = plan_for_courier(session=session, courier_id="c2", date=helpers.DATE)
        assert after is not None and after.id == "plan-2"
        stops = courier_stops(session=session, courier_id="c2", date=helpers.DATE)
        assert [s["type"] for s in stops] == ["start", "end"]
        assert plan_for_courier(session=session, courier_id="c9", date=helpers.DATE) is None


def test_courier_stops_give_what_to_do_and_the_citizen_contact(world: World) -> None:
    """c1's stop list: ordered stops with dossier, contact (no ID), and site hand-over lists."""
    with world.session() as session:
        stops = courier_stops(
            session=session, courier_id="c1", date=helpers.DATE, now=helpers.at("07:00")
        )
        assert [s["type"] for s in stops] == [
            "start",
            "pickup",
            "handoff",
            "collect",
            "delivery",
            "end",
        ]
        assert [s["index"] for s in stops] == list(range(6))
        pickup = stops[1]
        assert pickup["dossier"] == "D1" and pickup["kind"] == "pickup"
        assert pickup["citizen"] == {
            "name": helpers.CITIZEN_1["name"],
            "phone": helpers.CITIZEN_1["phone"],
        }
        assert pickup["address"] == helpers.ADDRESS_1
        assert pickup["expected_start"] == helpers.iso("08:00")
        assert stops[2]["hand_over"] == [{"job": "J1", "dossier": "D1", "status": "requested"}]
        assert stops[2]["site_name"] == "Bưu điện Trần Văn Thời"
        assert stops[3]["collect"] == [{"job": "J2", "dossier": "D2", "status": "processing"}]
        assert helpers.CITIZEN_1["id_number"] not in repr(stops)
        assert "D3" not in repr(stops)  # c2's dossier
        assert courier_stops(session=session, courier_id="c9", date=helpers.DATE) == []
        assert courier_stops(session=session, courier_id="c1", date="2026-11-24") == []


def test_users_table_never_holds_a_raw_token(world: World) -> None:
    """Every user row holds a 64-hex hash, none of the tokens handed out."""
    with world.session() as session:
        hashes = {u.token_hash for u in session.exec(select(User))}
    assert all(len(h) == 64 for h in hashes)
    assert not set(world.tokens.values()) & hashes
