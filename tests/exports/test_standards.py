"""Every document buuta hands to another system, checked by the standards' own validators.

- GS1 EPCIS 2.0 (``GET /v1/dossiers/{code}?format=epcis``) against GS1's EPCIS 2.0 JSON Schema,
  with the draft it declares and its format checker (``tests/standards``): every export of the
  sample day of ``buuta demo``, and 1,000 generated histories of every scan type, flagged and
  void scans included.
- The UPU-style export (``?format=upu``) against the UPU EMSEVT V3 codes it claims, with their
  names (``tests/standards/upu``).
- The OpenAPI document (``/openapi.json``) against the OpenAPI specification
  (``openapi-spec-validator``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import tracking
from api.demo import run_demo
from tests.standards import (
    EPCIS_SCHEMA,
    EPCIS_SCHEMA_SHA256,
    SHARED_EPCIS_SCHEMA,
    epcis_validator,
    problems,
    upu_codes,
    upu_validator,
)
from tests.support.server import RunningServer, create_tokens, serve
from tracking.export import BUUTA_BIZSTEP, EPCIS_STEPS
from tracking.lifecycle import FUTURE_TOLERANCE, INITIAL_STATUS, SITE_REQUIRED, TRANSITIONS

VN = timezone(timedelta(hours=7))
DAY = datetime(2026, 11, 23, 7, 0, tzinfo=VN)
NOW = DAY.replace(hour=20)
"""The server's clock while the generated histories are sent (device times are before it)."""


def assert_valid(doc: dict[str, Any]) -> None:
    """Assert ``doc`` passes GS1's EPCIS 2.0 schema, or list what a partner would refuse."""
    found = problems(epcis_validator(), doc)
    assert not found, "\n".join(found[:10]) + "\n" + json.dumps(doc, ensure_ascii=False)[:2000]


def assert_valid_upu(doc: dict[str, Any]) -> None:
    """Assert ``doc`` uses only the UPU codes it claims, under their names."""
    found = problems(upu_validator(), doc)
    assert not found, "\n".join(found[:10]) + "\n" + json.dumps(doc, ensure_ascii=False)[:2000]


def applied(session: Session, code: str) -> list[tuple[str, str]]:
    """``(event_id, type)`` of a dossier's scans that count for its status, in device-time
    order, as staff see them in the dossier's history."""
    view = tracking.dossier_view(session=session, code=code)
    assert view is not None
    return [(h["event_id"], h["type"]) for h in view["history"] if h["applied"]]


def check_exports(session: Session, code: str) -> dict[str, Any]:
    """Export one dossier both ways, validate both, and check they hold the applied scans in
    order, with identifiers that give the event id and dossier code back.

    Returns the EPCIS document.
    """
    epcis = tracking.export_epcis(session=session, code=code, now=NOW)
    upu = tracking.export_upu(session=session, code=code)
    assert_valid(epcis)
    assert_valid_upu(upu)
    events = epcis["epcisBody"]["eventList"]
    scans = applied(session, code)
    assert [e["buuta_event"] for e in upu["events"]] == [kind for _, kind in scans]
    assert len(events) == len(scans)
    for event, (event_id, kind) in zip(events, scans, strict=True):
        assert (event["bizStep"], event["disposition"]) == EPCIS_STEPS[tracking.EventType(kind)]
        uri = event["eventID"]
        if uri.startswith("urn:uuid:"):
            assert uuid.UUID(uri.removeprefix("urn:uuid:")) == uuid.UUID(event_id)
        else:
            assert unquote(uri.removeprefix("urn:buuta:event:")) == event_id, uri
        (epc,) = event["epcList"]
        assert unquote(epc.removeprefix("urn:buuta:dossier:")) == code, epc
    return epcis


# --- the standards' files and the validators themselves -----------------------------------


def test_the_schema_is_gs1s_published_file_unchanged() -> None:
    """The repository's schema is the file PROVENANCE.md names (by hash) and, where the shared
    standards folder is present, byte for byte the shared copy."""
    data = EPCIS_SCHEMA.read_bytes()
    assert hashlib.sha256(data).hexdigest() == EPCIS_SCHEMA_SHA256
    shared = SHARED_EPCIS_SCHEMA / "EPCIS-JSON-Schema.json"
    if shared.exists():
        assert shared.read_bytes() == data
    assert json.loads(data)["$schema"] == "http://json-schema.org/draft-07/schema#"


def _minimal_document() -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-23T14:00:00+07:00",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventID": "urn:uuid:6f1c1b0e-57c4-4a8e-9a43-2a9b0d0f5d11",
                    "eventTime": "2026-11-23T08:05:00+07:00",
                    "eventTimeZoneOffset": "+07:00",
                    "epcList": ["urn:buuta:dossier:D1"],
                    "action": "OBSERVE",
                    "bizStep": "accepting",
                    "disposition": "in_transit",
                }
            ]
        },
    }


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("bizStep", "urn:epcglobal:cbv:bizstep:accepting", "bizStep"),
        ("disposition", "urn:epcglobal:cbv:disp:in_transit", "disposition"),
        ("bizStep", "delivery failed", "bizStep"),  # neither a CBV word nor a URI
        ("eventID", "event 1", "eventID"),  # not a URI: the format checker must catch it
        ("eventTime", "23/11/2026 08:05", "eventTime"),  # not an RFC 3339 date-time
        ("epcList", ["D1"], "epcList"),  # a bare code is not a URI
    ],
)
def test_the_epcis_validator_refuses_what_a_partner_refuses(
    field: str, value: Any, needle: str
) -> None:
    """The validator accepts a minimal 2.0 document and refuses each mistake partners refuse:
    EPCIS 1.x URNs, words outside CBV, identifiers that are not URIs, bad times."""
    doc = _minimal_document()
    assert problems(epcis_validator(), doc) == []
    doc["epcisBody"]["eventList"][0][field] = value
    found = problems(epcis_validator(), doc)
    assert found, f"{field}={value!r} passed"
    assert any(needle in line for line in found), found


def test_the_upu_validator_refuses_codes_and_names_not_in_the_list() -> None:
    """An unknown code, a known code under another name, or an EMH without its reason fail."""
    event = {
        "code": "EMA",
        "description": upu_codes()["EMA"],
        "buuta_event": "collected",
        "at": "2026-11-23T08:05:00+07:00",
        "office": None,
    }
    doc = {"item": "D1", "direction": "pickup", "events": [event]}
    assert problems(upu_validator(), doc) == []
    for change in (
        {"code": "EXX"},
        {"description": "Collected"},
        {"code": "EMH", "description": upu_codes()["EMH"]},  # no reason
        {"at": "2026-11-23T01:05:00Z"},  # buuta writes Vietnam's local time
    ):
        bad = copy.deepcopy(doc)
        bad["events"][0].update(change)
        assert problems(upu_validator(), bad), change


def test_the_mapping_uses_cbv_words_or_buutas_own_uris() -> None:
    """Every bizStep and disposition of the table is a CBV 2.0 word the schema lists, or a URI
    of buuta's own vocabulary outside GS1's namespaces; every scan type has a row."""
    schema = json.loads(EPCIS_SCHEMA.read_text(encoding="utf-8"))["definitions"]
    cbv_steps = set(schema["bizStep"]["anyOf"][1]["enum"])
    cbv_dispositions = set(schema["disposition"]["anyOf"][1]["enum"])
    assert set(EPCIS_STEPS) == set(tracking.EventType)
    for step, disposition in EPCIS_STEPS.values():
        assert step in cbv_steps or step.startswith(BUUTA_BIZSTEP), step
        assert disposition in cbv_dispositions, disposition
    assert BUUTA_BIZSTEP.startswith("urn:buuta:")


# --- the sample day, over HTTP -------------------------------------------------------------


@dataclass
class DemoServer:
    """buuta serving the sample day's database, with a staff token."""

    server: RunningServer
    client: httpx.Client
    headers: dict[str, str]

    def get(self, path: str, **params: str) -> Any:
        """GET ``path`` as staff; asserts 200 and returns the JSON."""
        answer = self.client.get(f"{self.server.base_url}{path}", params=params,
                                 headers=self.headers)  # fmt: skip
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """``buuta demo``'s day (60 dossiers, seed 0) simulated to 18:00, so that results are
    delivered and some attempts fail (a 2 s solve keeps it quick), served by ``buuta serve``."""
    out = tmp_path_factory.mktemp("demo")
    result = run_demo(jobs=60, out=out, time_limit_s=2.0, until="18:00", echo=lambda _: None)
    token = create_tokens(result.database_url, {"auditor": "staff"})["auditor"]
    with serve(result.database_url) as server, httpx.Client(timeout=30) as client:
        yield DemoServer(server, client, {"Authorization": f"Bearer {token}"})


def test_every_export_of_the_sample_day_is_valid(demo: DemoServer) -> None:
    """All 60 dossiers of the sample day, fetched from ``GET /v1/dossiers/{code}?format=``,
    export as valid EPCIS 2.0 and valid UPU codes, one event per scan that counts."""
    steps: Counter[str] = Counter()
    engine = tracking.make_engine(demo.server.database_url)
    try:
        with Session(engine) as session:
            codes = [d.code for d in session.exec(select(tracking.Dossier))]
    finally:
        engine.dispose()
    assert len(codes) == 60
    for code in codes:
        path = f"/v1/dossiers/{quote(code, safe='')}"
        epcis, upu = demo.get(path, format="epcis"), demo.get(path, format="upu")
        assert_valid(epcis)
        assert_valid_upu(upu)
        counted = [h["type"] for h in demo.get(path)["history"] if h["applied"]]
        events = epcis["epcisBody"]["eventList"]
        assert [e["buuta_event"] for e in upu["events"]] == counted
        assert len(events) == len(counted)
        steps.update(e["bizStep"] for e in events)
    # The day collects, hands over, ships, receives, posts results, delivers and fails some.
    used = {"accepting", "arriving", "departing", "receiving", "commissioning"}
    assert used | {f"{BUUTA_BIZSTEP}delivery_failed"} <= set(steps), steps


def test_the_openapi_document_is_valid_openapi(demo: DemoServer) -> None:
    """/openapi.json, as buuta serves it, passes openapi-spec-validator for the OpenAPI version
    it declares (3.1), and documents the export formats."""
    spec = demo.get("/openapi.json")
    assert spec["openapi"].startswith("3.1")
    validate_openapi(spec)
    text = json.dumps(spec["paths"]["/v1/dossiers/{code}"])
    assert "epcis" in text and "upu" in text


def _examples(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """``(where, schema, example)`` for every example of a request body or component."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
                where = f"{method.upper()} {path} {media_type}"
                schema = media.get("schema", {})
                found = [media.get("example"), schema.get("example")]
                found += [e.get("value") for e in media.get("examples", {}).values()]
                yield from ((where, schema, e) for e in found if e is not None)
    for name, schema in spec["components"]["schemas"].items():
        found = [schema["example"]] if "example" in schema else []
        yield from ((name, schema, e) for e in [*found, *schema.get("examples", [])])


def test_every_example_in_the_openapi_document_fits_its_schema(demo: DemoServer) -> None:
    """An integrator copies the examples: each one (the plan request's, the scan's, ...) passes
    the schema it illustrates, read with OpenAPI 3.1's schema dialect."""
    spec = demo.get("/openapi.json")
    examples = list(_examples(spec))
    assert any(where == "POST /v1/plans application/json" for where, _, _ in examples)
    for where, schema, example in examples:
        # Refs point at #/components: validate inside a root that holds them.
        validator = OAS31Validator(
            {**schema, "components": spec["components"]}, format_checker=oas31_format_checker
        )
        found = problems(validator, example)
        assert not found, f"{where}: {found[:5]}"
    scan = spec["components"]["schemas"]["ScanEventIn"]
    broken = {**scan["examples"][0], "at": 1700000000}  # the check can fail: a number for a time
    validator = OAS31Validator({**scan, "components": spec["components"]})
    assert problems(validator, broken), "a number for a time passed"


def test_the_openapi_validator_refuses_a_broken_document(demo: DemoServer) -> None:
    """The check can fail: the same document with a path parameter made optional is refused."""
    spec = demo.get("/openapi.json")
    operation = spec["paths"]["/v1/dossiers/{code}"]["get"]
    for parameter in operation["parameters"]:
        if parameter["in"] == "path":
            parameter["required"] = False
    with pytest.raises(OpenAPIValidationError):
        validate_openapi(spec)


# --- generated histories ------------------------------------------------------------------

SITES = ("po-tvt", "centre", "bưu cục số 1/ấp 3")
"""Site ids, one with spaces, a slash and Vietnamese letters that URIs must percent-encode."""
ID_LAST4 = "1111"


@dataclass
class DossierPool:
    """Fresh dossiers stored through ``store_plan`` in batches, each used by one history."""

    engine: Engine
    admin: tracking.User
    free: list[tuple[str, str]] = field(default_factory=list)  # (code, direction)
    batches: int = 0

    def take(self, direction: str) -> str:
        """Return the code of an unused dossier travelling in ``direction``."""
        for i, (code, way) in enumerate(self.free):
            if way == direction:
                del self.free[i]
                return code
        self._store_batch()
        return self.take(direction)

    def _store_batch(self, size: int = 100) -> None:
        self.batches += 1
        b = self.batches
        jobs = []
        for n in range(size):
            kind = "pickup" if n % 2 else "return"
            # Half the codes need percent-encoding in URIs (a space, a slash, Vietnamese).
            code = f"H12.22-{b:03d}-{n:04d}" if n % 4 < 2 else f"HS số {b}/{n} ấp"
            jobs.append(
                {"id": f"J{b}-{n}", "kind": kind, "dossier": code, "lat": 9.0, "lon": 105.0,
                 "citizen": {"name": "Nguyễn Văn An", "phone": "0912345678",
                             "id_number": f"09600000{ID_LAST4}"}}
            )  # fmt: skip
            self.free.append((code, kind))
        sites = [
            {"id": s, "kind": "post_office", "name": s, "lat": 9.1, "lon": 105.1} for s in SITES
        ]
        request = {"date": "2026-11-23", "sites": sites, "couriers": [], "jobs": jobs}
        unassigned = [{"job": j["id"], "reason": "no_time"} for j in jobs]
        plan = {"plan_id": f"gen-{b}", "date": "2026-11-23", "status": "partial",
                "routes": [], "unassigned": unassigned}  # fmt: skip
        with Session(self.engine) as session:
            tracking.store_plan(session=session, request=request, plan=plan, created_by="gen")


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DossierPool]:
    """A migrated SQLite file with an admin user (who may scan every type) and fresh dossiers."""
    path = tmp_path_factory.mktemp("histories") / "buuta.sqlite"
    engine = tracking.make_engine(f"sqlite:///{path}")
    tracking.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        admin, _token = tracking.create_user(session=session, name="admin", role="admin")
    yield DossierPool(engine=engine, admin=admin)
    engine.dispose()


@dataclass(frozen=True)
class Step:
    """One scan of a generated history; ``flavour`` says how it may go wrong."""

    type: tracking.EventType
    minutes: int  # after the previous scan (0: the same minute)
    flavour: str  # ok | future (void: far ahead of the clock) | bad_proof (void delivery)
    event_id: str
    place: str | None  # a site id, or None for a home (lat/lon)


event_ids = st.one_of(
    st.uuids().map(str),
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs")), min_size=1, max_size=30
    ).map(lambda s: f"phone/{s} #"),  # not a UUID: urn:buuta:event:, percent-encoded
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, list[Step], list[int]]:
    """A dossier's scans: mostly a walk along the life cycle (so much of it applies), with
    stray scans of any type (flagged), void ones (a device clock far ahead, a delivery with
    wrong proof) and a send order that differs from device time (phones offline)."""
    direction = draw(st.sampled_from([d.value for d in tracking.Direction]))
    status = INITIAL_STATUS[tracking.Direction(direction)]
    steps: list[Step] = []
    for _ in range(draw(st.integers(0, 9))):
        legal = [e for (d, s, e) in TRANSITIONS if d.value == direction and s is status]
        if legal and draw(st.integers(0, 3)) > 0:
            kind = draw(st.sampled_from(legal))
            status = TRANSITIONS[(tracking.Direction(direction), status, kind)]
        else:
            kind = draw(st.sampled_from(list(tracking.EventType)))
        flavour = draw(st.sampled_from(["ok", "ok", "ok", "ok", "future", "bad_proof"]))
        place = draw(st.sampled_from([*SITES, None]))
        steps.append(Step(kind, draw(st.integers(0, 60)), flavour, draw(event_ids), place))
    ids = [s.event_id for s in steps]
    if len(set(ids)) != len(ids):  # ids are unique per phone; a clash would be a `conflict`
        steps = [Step(s.type, s.minutes, s.flavour, f"{i}-{s.event_id}", s.place)
                 for i, s in enumerate(steps)]  # fmt: skip
    order = draw(st.permutations(range(len(steps))))
    return direction, steps, list(order)


def _scan(code: str, step: Step, at: datetime) -> tracking.ScanInput:
    site = step.place
    if site is None and step.type in SITE_REQUIRED:
        site = SITES[0]
    extra: dict[str, Any] = {}
    if site is None:
        extra.update(lat=9.05, lon=104.98)
    if step.type is tracking.EventType.DELIVERED:
        digits = "0000" if step.flavour == "bad_proof" else ID_LAST4
        extra["proof"] = {"id_last4": digits}
    if step.type is tracking.EventType.DELIVERY_FAILED:
        extra["reason"] = "không có nhà (not at home)"
    if step.flavour == "future":
        at = NOW + FUTURE_TOLERANCE + timedelta(hours=1)
    return tracking.ScanInput(
        event_id=step.event_id, dossier=code, type=step.type, at=at, site=site, **extra
    )


def test_exports_of_1000_generated_histories_are_valid(pool: DossierPool) -> None:
    """1,000 generated histories of every scan type, sent out of order in small batches with
    flagged and void scans among them: each export is valid EPCIS 2.0 and valid UPU, and holds
    exactly the scans that count. Over the run every type is exported and every answer (stored,
    flagged, void) occurs."""
    exported: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    runs: list[int] = []

    @settings(
        max_examples=1000,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(histories())
    def check(history: tuple[str, list[Step], list[int]]) -> None:
        direction, steps, order = history
        runs.append(len(steps))
        code = pool.take(direction)
        at, scans = DAY, []
        for step in steps:
            at += timedelta(minutes=step.minutes)
            scans.append(_scan(code, step, at))
        with Session(pool.engine) as session:
            admin = session.get(tracking.User, pool.admin.id)
            assert admin is not None
            for i in range(0, len(order), 3):  # batches of 3, in the drawn send order
                batch = [scans[k] for k in order[i : i + 3]]
                for result in tracking.ingest_scans(
                    session=session, events=batch, actor=admin, now=NOW
                ):
                    answers[result.status] += 1
            doc = check_exports(session, code)
        exported.update(e["bizStep"] for e in doc["epcisBody"]["eventList"])

    check()
    assert len(runs) >= 1000
    assert set(exported) == {step for step, _ in EPCIS_STEPS.values()}
    with Session(pool.engine) as session:
        rows = list(session.exec(select(tracking.ScanEvent)))
    kept = Counter("void" if r.void_reason else "flagged" if r.flagged else "applied" for r in rows)
    assert answers["stored"] > 0 and answers["flagged"] > 0, answers
    assert kept["void"] > 0 and kept["flagged"] > 0 and kept["applied"] > 0, kept
    assert {r.type for r in rows} == {e.value for e in tracking.EventType}
