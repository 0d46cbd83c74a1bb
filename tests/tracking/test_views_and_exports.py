"""Staff and public views of a dossier, and its UPU and EPCIS exports."""

from __future__ import annotations

import json

from tests.tracking.conftest import World
from tests.tracking.helpers import ADDRESS_1, CITIZEN_1, CITIZEN_2, at, scan
from tracking import dossier_view, export_epcis, export_upu, ingest_scans, public_track


def _personal_strings() -> list[str]:
    out = [ADDRESS_1, "9.05", "104.98", "9.02", "105.01"]
    for citizen in (CITIZEN_1, CITIZEN_2):
        digits = "".join(ch for ch in citizen["phone"] if ch.isdigit())
        out += [
            citizen["name"],
            citizen["phone"],
            digits,
            citizen["id_number"],
            citizen["id_number"][-4:],
        ]
    return out


def _return_journey(world: World) -> list[str]:
    """Carry D2 from the centre to the citizen with one failed attempt; return the event ids."""
    events = [
        ("staff", scan("D2", "result_ready", "07:30", site="centre")),
        ("staff", scan("D2", "on_shuttle", "08:00", site="centre")),
        ("staff", scan("D2", "at_hub", "08:25", site="po-tvt")),
        ("c1", scan("D2", "out_for_delivery", "08:40", site="po-tvt")),
        ("c1", scan("D2", "delivery_failed", "09:15", lat=9.02, lon=105.01, reason="not home")),
        ("c1", scan("D2", "out_for_delivery", "12:40", site="po-tvt")),
        (
            "c1",
            scan(
                "D2",
                "delivered",
                "13:05",
                lat=9.02,
                lon=105.01,
                proof={
                    "id_last4": CITIZEN_2["id_number"][-4:],
                    "recipient_is_applicant": False,
                    "recipient_name": "Trần Văn Dũng",
                },
            ),
        ),
    ]
    with world.session() as session:
        for name, event in events:
            (result,) = ingest_scans(
                session=session, events=[event], actor=world.user(name, session), now=at("13:30")
            )
            assert result.status == "stored", result.reason
    return [e.event_id for _, e in events]


def test_public_track_shows_status_place_and_time_but_nothing_personal(world: World) -> None:
    """After collection, the citizen sees 'with the courier' and the expected hand-over only."""
    with world.session() as session:
        ingest_scans(
            session=session,
            events=[scan("D1", "collected", "08:05", lat=9.05, lon=104.98)],
            actor=world.user("c1", session),
            now=at("08:06"),
        )
        view = public_track(session=session, code="D1", phone_last4="5678", now=at("08:10"))
    assert view == {
        "code": "D1",
        "status": "collected",
        "status_label": "Collected from your home",
        "updated_at": "2026-11-23T08:05:00+07:00",
        "place": {"kind": "courier", "site": None, "name": "With the courier"},
        "next_step": "at_hub",
        # Planned at the post office 08:30; collected 5 min late (08:05 vs 08:00): 08:35.
        "expected": "2026-11-23T08:35:00+07:00",
        "late": False,
        "due_date": None,
        "promised_date": None,
    }
    text = json.dumps(view, ensure_ascii=False)
    for personal in _personal_strings():
        assert personal not in text


def test_public_track_needs_the_right_phone_digits(world: World) -> None:
    """Wrong digits and unknown codes get the same None; malformed digits too."""
    with world.session() as session:
        assert public_track(session=session, code="D1", phone_last4="5679") is None
        assert public_track(session=session, code="NOPE", phone_last4="5678") is None
        assert public_track(session=session, code="D1", phone_last4="678") is None
        assert public_track(session=session, code="D1", phone_last4="") is None
        assert public_track(session=session, code="D2", phone_last4="4321") is not None


def test_public_track_at_a_site_names_the_site(world: World) -> None:
    """At the post office the citizen sees the site's name and the shuttle's arrival."""
    with world.session() as session:
        c1 = world.user("c1", session)
        ingest_scans(
            session=session,
            events=[
                scan("D1", "collected", "08:05", lat=9.05, lon=104.98),
                scan("D1", "at_hub", "09:55", site="po-tvt"),
            ],
            actor=c1,
            now=at("09:56"),
        )
        view = public_track(session=session, code="D1", phone_last4="5678", now=at("09:56"))
    assert view is not None
    assert view["place"] == {"kind": "site", "site": "po-tvt", "name": "Bưu điện Trần Văn Thời"}
    # 09:55 is past the 10:00 run's hand-off margin (10 min): the 14:00 run, arriving 14:40.
    assert (view["next_step"], view["expected"]) == ("received", "2026-11-23T14:40:00+07:00")


def test_dossier_view_gives_staff_the_full_history(world: World) -> None:
    """Staff see every event with its id, flags and notes, the custodian and the citizen."""
    ids = _return_journey(world)
    with world.session() as session:
        late = scan("D2", "at_hub", "13:20", site="po-tvt")
        (flagged,) = ingest_scans(
            session=session, events=[late], actor=world.user("staff", session), now=at("13:30")
        )
        view = dossier_view(session=session, code="D2", now=at("13:30"))
        assert dossier_view(session=session, code="NOPE") is None
    assert view is not None
    assert flagged.status == "flagged"
    assert [h["event_id"] for h in view["history"]] == [*ids, late.event_id]
    assert [h["applied"] for h in view["history"]] == [True] * 7 + [False]
    assert view["history"][-1]["note"] == "the dossier is already 'delivered', a final status"
    assert (view["status"], view["custodian"], view["failed_attempts"]) == (
        "delivered",
        "citizen",
        1,
    )
    assert view["history"][4]["proof"] == {"reason": "not home"}
    assert view["citizen"] == {
        "name": CITIZEN_2["name"],
        "phone": CITIZEN_2["phone"],
        "address": None,
    }
    assert view["plan"] == {"plan_id": "plan-1", "date": "2026-11-23", "job": "J2", "courier": "c1"}
    assert view["next"] is None


def test_upu_export_of_a_return_journey(world: World) -> None:
    """The journey maps to EMSEVT codes: EMA EDE EMG EDG EMH EDG EMI, reason on EMH."""
    _return_journey(world)
    with world.session() as session:
        upu = export_upu(session=session, code="D2")
    assert [e["code"] for e in upu["events"]] == ["EMA", "EDE", "EMG", "EDG", "EMH", "EDG", "EMI"]
    assert upu["events"][4]["reason"] == "not home"
    assert upu["events"][0]["at"] == "2026-11-23T07:30:00+07:00"
    assert upu["events"][2]["office"] == "po-tvt"


def test_epcis_export_is_a_document_of_object_events(world: World) -> None:
    """EPCIS 2.0: one ObjectEvent per applied scan, CBV words bare (buuta's own step as a URI),
    uuid event ids, nothing personal."""
    ids = _return_journey(world)
    with world.session() as session:
        doc = export_epcis(session=session, code="D2", now=at("14:00"))
    assert doc["type"] == "EPCISDocument" and doc["schemaVersion"] == "2.0"
    events = doc["epcisBody"]["eventList"]
    assert [e["eventID"] for e in events] == [f"urn:uuid:{i}" for i in ids]
    assert {e["type"] for e in events} == {"ObjectEvent"}
    assert [e["bizStep"] for e in events] == [
        "commissioning",
        "departing",
        "arriving",
        "departing",
        "urn:buuta:bizstep:delivery_failed",
        "departing",
        "accepting",
    ]
    assert [e["disposition"] for e in events] == [
        "active",
        "in_transit",
        "in_progress",
        "in_transit",
        "in_transit",
        "in_transit",
        "inactive",
    ]
    assert events[0]["epcList"] == ["urn:buuta:dossier:D2"]
    assert events[2]["bizLocation"] == {"id": "urn:buuta:site:po-tvt"}
    assert "readPoint" not in events[-1]  # a home: no place exported
    text = json.dumps(doc, ensure_ascii=False)
    assert "Trần Văn Dũng" not in text and CITIZEN_2["name"] not in text
    assert "105.01" not in text
