"""The HTTP service over real HTTP, on a SQLite file and on PostgreSQL (module fixture ``day``).

Each test reads the small day planned by the fixture (harness/api_day.py): ``c1`` carries the
pickup P1 and the return R1, ``c2`` the pickups P2 and P3.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from harness.api_day import CITIZENS, ago, new_id
from tests.api.conftest import Day

P1, R1, P2, P3 = (
    "H12.22-261123-0001",
    "H12.22-261101-0107",
    "H12.22-261123-0002",
    "H12.22-261123-0003",
)


def dossier(day: Day, code: str, user: str = "staff1") -> dict[str, Any]:
    """GET /v1/dossiers/{code} as ``user``; asserts 200."""
    answer = day.client.get(f"{day.url}/v1/dossiers/{code}", headers=day.as_user(user))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def history_ids(view: dict[str, Any]) -> list[str]:
    """The event ids in a dossier view's history."""
    return [str(e["event_id"]) for e in view["history"]]


def assert_error(answer: httpx.Response, status: int, *needles: str) -> dict[str, Any]:
    """Assert a JSON error answer with ``status`` whose message contains every needle."""
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert isinstance(body.get("message"), str)
    for needle in needles:
        assert needle in body["message"], body
    assert "Traceback" not in answer.text
    return body


# --- service basics -------------------------------------------------------------------------


def test_healthz_and_openapi(day: Day) -> None:
    """/healthz answers 200 with the database kind; OpenAPI documents every /v1 route."""
    health = day.client.get(f"{day.url}/healthz")
    assert health.status_code == 200
    assert health.json()["database"] in ("sqlite", "postgresql")
    spec = day.client.get(f"{day.url}/openapi.json").json()
    for path in (
        "/v1/plans",
        "/v1/plans/{plan_id}",
        "/v1/plans/{plan_id}/replan",
        "/v1/couriers/{courier_id}/stops",
        "/v1/couriers/{courier_id}/positions",
        "/v1/scans",
        "/v1/dossiers/{code}",
        "/v1/dossiers/{code}/delivery-code",
        "/v1/track/{code}",
    ):
        assert path in spec["paths"], path
    text = json.dumps(spec["paths"]["/v1/plans"])
    assert "example" in text  # the plan request carries an example


def test_missing_and_unknown_tokens_are_401(day: Day) -> None:
    """No token or an unknown token answers 401 JSON with WWW-Authenticate."""
    plain = day.client.get(f"{day.url}/v1/plans", params={"date": day.date})
    assert_error(plain, 401, "API token")
    assert plain.headers["www-authenticate"] == "Bearer"
    bad = day.client.get(
        f"{day.url}/v1/plans",
        params={"date": day.date},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert_error(bad, 401, "not valid")


def test_token_cookie_is_accepted(day: Day) -> None:
    """The ``buuta_token`` cookie authenticates like the Bearer header (for the HTML pages)."""
    answer = httpx.get(
        f"{day.url}/v1/plans",
        params={"date": day.date},
        cookies={"buuta_token": day.tokens["staff1"]},
    )
    assert answer.status_code == 200, answer.text


# --- plans ---------------------------------------------------------------------------------


def test_plan_is_stored_and_listed_without_personal_data(day: Day) -> None:
    """The plan answered at creation is readable by id and listed for its date; no citizen
    data was copied into it."""
    plan_id = day.plan["plan_id"]
    again = day.client.get(f"{day.url}/v1/plans/{plan_id}", headers=day.as_user("staff1"))
    assert again.status_code == 200
    assert again.json() == day.plan
    listed = day.client.get(
        f"{day.url}/v1/plans", params={"date": day.date}, headers=day.as_user("disp1")
    ).json()
    assert plan_id in [p["plan_id"] for p in listed["data"]]
    assert listed["count"] == len(listed["data"])
    text = json.dumps(day.plan, ensure_ascii=False)
    for citizen in CITIZENS.values():
        for value in citizen.values():
            assert value not in text


def test_unknown_plan_is_404(day: Day) -> None:
    """Reading a plan id that does not exist answers 404 naming the field, not the value sent
    (error messages never echo what was sent)."""
    answer = day.client.get(f"{day.url}/v1/plans/nope", headers=day.as_user("staff1"))
    body = assert_error(answer, 404, "plan_id")
    assert "nope" not in body["message"]


def test_invalid_plan_requests_are_422_naming_the_field(day: Day) -> None:
    """A schema error (no couriers), a meaning error (a window ending before it starts) and a
    latitude out of range answer 422 with the field's path, and nothing is planned."""
    headers = day.as_user("disp1")
    missing = dict(day.request)
    del missing["couriers"]
    answer = day.client.post(f"{day.url}/v1/plans", json=missing, headers=headers)
    body = assert_error(answer, 422, "couriers")
    assert body["fields"][0]["field"] == "couriers"
    reversed_window = json.loads(json.dumps(day.request))
    reversed_window["jobs"][0]["window"] = ["11:00", "09:00"]
    answer = day.client.post(f"{day.url}/v1/plans", json=reversed_window, headers=headers)
    assert_error(answer, 422, "jobs[0].window")
    bad_lat = json.loads(json.dumps(day.request))
    bad_lat["jobs"][1]["lat"] = 123.0
    answer = day.client.post(f"{day.url}/v1/plans", json=bad_lat, headers=headers)
    assert_error(answer, 422, "jobs[1].lat")


def test_malformed_json_is_422(day: Day) -> None:
    """A body that is not JSON answers 422 'malformed JSON', not 500."""
    answer = day.client.post(
        f"{day.url}/v1/scans",
        content=b'[{"event_id": ',
        headers={**day.as_user("c1"), "Content-Type": "application/json"},
    )
    assert_error(answer, 422, "malformed JSON")


# --- stop lists and positions ----------------------------------------------------------------


def test_courier_reads_its_own_stops_with_citizen_contact(day: Day) -> None:
    """c1's stop list follows its route, and its job stops carry the citizen's contact (name
    and phone, never the ID number)."""
    answer = day.client.get(
        f"{day.url}/v1/couriers/c1/stops", params={"date": day.date}, headers=day.as_user("c1")
    )
    assert answer.status_code == 200, answer.text
    stops = answer.json()["stops"]
    route = next(r for r in day.plan["routes"] if r["courier"] == "c1")
    assert [s["type"] for s in stops] == [s["type"] for s in route["stops"]]
    p1 = next(s for s in stops if s.get("job") == "P1")
    assert p1["citizen"]["phone"] == CITIZENS["P1"]["phone"]
    assert CITIZENS["P1"]["id_number"] not in answer.text


def test_courier_cannot_read_another_couriers_stops(day: Day) -> None:
    """c2 asking for c1's stop list is refused (403); staff and dispatchers may read it."""
    refused = day.client.get(
        f"{day.url}/v1/couriers/c1/stops", params={"date": day.date}, headers=day.as_user("c2")
    )
    assert_error(refused, 403, "own")
    for user in ("staff1", "disp1", "admin1"):
        ok = day.client.get(
            f"{day.url}/v1/couriers/c1/stops",
            params={"date": day.date},
            headers=day.as_user(user),
        )
        assert ok.status_code == 200, (user, ok.text)


def test_positions_only_by_that_courier_and_validated(day: Day) -> None:
    """c1 records its positions (201 with the count); c2 may not post c1's; a latitude out of
    range or a time without offset answers 422 naming the field."""
    url = f"{day.url}/v1/couriers/c1/positions"
    good = [{"at": ago(3), "lat": 9.17, "lon": 105.16}, {"at": ago(1), "lat": 9.18, "lon": 105.15}]
    answer = day.client.post(url, json=good, headers=day.as_user("c1"))
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"recorded": 2}
    assert_error(day.client.post(url, json=good, headers=day.as_user("c2")), 403)
    bad = day.client.post(
        url, json=[{"at": ago(1), "lat": 91.0, "lon": 105.0}], headers=day.as_user("c1")
    )
    body = assert_error(bad, 422, "positions[0].lat")
    assert body["fields"][0]["field"] == "positions[0].lat"
    naive = day.client.post(
        url,
        json=[{"at": "2026-11-23T08:00:00", "lat": 9.1, "lon": 105.0}],
        headers=day.as_user("c1"),
    )
    assert_error(naive, 422, "positions[0].at")


# --- scans: life cycle, idempotency, order, ownership ------------------------------------------


def test_pickup_life_cycle_over_http(day: Day) -> None:
    """P1 goes requested → collected (c1) → at_hub (c1) → on_shuttle → received (staff); the
    staff view shows the status and every event id in order; the UPU and EPCIS exports hold
    the four events."""
    ids = [new_id() for _ in range(4)]
    first = day.scan(
        "c1",
        {"event_id": ids[0], "dossier": P1, "type": "collected", "at": ago(50), "lat": 9.1702,
         "lon": 105.161, "job": "P1", "proof": {"photo_sha256": "ab" * 32}},
        {"event_id": ids[1], "dossier": P1, "type": "at_hub", "at": ago(40), "site": "po-cm"},
    )  # fmt: skip
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["stored", "stored"]
    assert dossier(day, P1)["status"] == "at_hub"
    second = day.scan(
        "staff1",
        {"event_id": ids[2], "dossier": P1, "type": "on_shuttle", "at": ago(30), "site": "po-cm"},
        {"event_id": ids[3], "dossier": P1, "type": "received", "at": ago(10), "site": "centre"},
    )
    assert [r["status"] for r in second.json()["results"]] == ["stored", "stored"]
    view = dossier(day, P1)
    assert view["status"] == "received"
    assert history_ids(view) == ids
    headers = day.as_user("staff1")
    upu = day.client.get(f"{day.url}/v1/dossiers/{P1}", params={"format": "upu"}, headers=headers)
    assert [e["buuta_event"] for e in upu.json()["events"]] == [
        "collected", "at_hub", "on_shuttle", "received"
    ]  # fmt: skip
    epcis = day.client.get(
        f"{day.url}/v1/dossiers/{P1}", params={"format": "epcis"}, headers=headers
    ).json()
    assert len(epcis["epcisBody"]["eventList"]) == 4


def test_same_event_twice_is_stored_once(day: Day) -> None:
    """A resent event answers ``duplicate`` and is kept once; the same id with other content
    answers ``conflict`` and changes nothing."""
    event = {"event_id": new_id(), "dossier": P2, "type": "collected", "at": ago(45),
             "lat": 9.07, "lon": 104.99, "job": "P2"}  # fmt: skip
    assert day.scan("c2", event).json()["results"][0]["status"] == "stored"
    again = day.scan("c2", event).json()["results"][0]
    assert again["status"] == "duplicate"
    other = {**event, "at": ago(44)}
    clash = day.scan("c2", other).json()["results"][0]
    assert clash["status"] == "conflict"
    view = dossier(day, P2)
    assert history_ids(view).count(event["event_id"]) == 1
    assert view["status"] == "collected"


def test_fifty_concurrent_sends_of_one_event_make_one_row(day: Day) -> None:
    """50 clients sending the same event at once: every answer is stored or duplicate, exactly
    one is stored, and the history holds it once."""
    event = {"event_id": new_id(), "dossier": P3, "type": "collected", "at": ago(35),
             "lat": 9.095, "lon": 104.95, "job": "P3"}  # fmt: skip
    headers = day.as_user("c2")

    def send(_: int) -> str:
        with httpx.Client(timeout=60) as client:
            answer = client.post(f"{day.url}/v1/scans", json=[event], headers=headers)
            assert answer.status_code == 200, answer.text
            return str(answer.json()["results"][0]["status"])

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(send, range(50)))
    assert statuses.count("stored") == 1, statuses
    assert statuses.count("duplicate") == 49, statuses
    assert history_ids(dossier(day, P3)).count(event["event_id"]) == 1


def test_out_of_order_batch_ends_in_the_right_status(day: Day) -> None:
    """A phone that was offline sends the return R1's events newest first; the status is
    derived in device-time order and ends at out_for_delivery with c1 as custodian."""
    staff = day.scan(
        "staff1",
        {"event_id": new_id(), "dossier": R1, "type": "at_hub", "at": ago(100), "site": "po-cm"},
        {"event_id": new_id(), "dossier": R1, "type": "on_shuttle", "at": ago(110),
         "site": "centre"},
        {"event_id": new_id(), "dossier": R1, "type": "result_ready", "at": ago(120),
         "site": "centre"},
    )  # fmt: skip
    assert staff.status_code == 200, staff.text
    assert [r["status"] for r in staff.json()["results"]] == ["stored"] * 3
    courier = day.scan(
        "c1",
        {"event_id": new_id(), "dossier": R1, "type": "out_for_delivery", "at": ago(90),
         "site": "po-cm", "job": "R1"},
    )  # fmt: skip
    assert courier.json()["results"][0]["status"] == "stored", courier.text
    view = dossier(day, R1)
    assert view["status"] == "out_for_delivery"
    assert view["custodian"] == "courier:c1"


def test_event_breaking_the_life_cycle_is_kept_and_flagged(day: Day) -> None:
    """P2 put 'on_shuttle' straight from 'collected' (it never reached a hub) is flagged with a
    reason and kept in the history, and the status does not move."""
    event_id = new_id()
    answer = day.scan(
        "staff1",
        {
            "event_id": event_id,
            "dossier": P2,
            "type": "on_shuttle",
            "at": ago(20),
            "site": "po-tvt",
        },
    )
    result = answer.json()["results"][0]
    assert result["status"] == "flagged", result
    assert result["reason"]
    view = dossier(day, P2)
    assert event_id in history_ids(view)
    assert view["status"] == "collected"


def test_courier_cannot_scan_another_couriers_dossier(day: Day) -> None:
    """c2 scanning c1's return R1 is refused (403) and nothing is stored."""
    event_id = new_id()
    answer = day.scan(
        "c2",
        {"event_id": event_id, "dossier": R1, "type": "delivered", "at": ago(5),
         "proof": {"id_last4": "5678"}},
    )  # fmt: skip
    assert_error(answer, 403)
    assert event_id not in history_ids(dossier(day, R1))


def test_dispatcher_does_not_scan(day: Day) -> None:
    """Dispatchers plan; a scan from a dispatcher's token is refused (403)."""
    answer = day.scan(
        "disp1", {"event_id": new_id(), "dossier": P1, "type": "at_hub", "at": ago(1),
                  "site": "po-cm"}
    )  # fmt: skip
    assert_error(answer, 403, "dispatcher")


def test_bad_scan_input_is_4xx_naming_the_field(day: Day) -> None:
    """Unknown dossier or site, a time without offset, a latitude out of range, an unknown
    event type: each answers 422 naming ``events[i].field``, nothing is stored."""
    base = {"event_id": new_id(), "dossier": P1, "type": "at_hub", "at": ago(1), "site": "po-cm"}
    cases = [
        ({"dossier": "H00-NOPE"}, "events[0].dossier"),
        ({"site": "po-nowhere"}, "events[0].site"),
        ({"at": "2026-11-23T08:00:00"}, "events[0].at"),
        ({"lat": 95.0, "lon": 105.0}, "events[0].lat"),
        ({"type": "teleported"}, "events[0].type"),
    ]
    for change, field in cases:
        answer = day.scan("staff1", {**base, **change, "event_id": new_id()})
        assert_error(answer, 422, field)


def test_too_many_events_and_too_large_bodies_are_413(day: Day) -> None:
    """A batch above the limit (500) answers 413 naming the limit; a body above the byte limit
    answers 413 before it is read, or as soon as a streamed body passes the limit."""
    many = [
        {"event_id": new_id(), "dossier": P1, "type": "at_hub", "at": ago(1), "site": "po-cm"}
        for _ in range(501)
    ]
    assert_error(day.scan("staff1", *many), 413, "at most 500")
    huge = b"[" + b" " * 3_000_000 + b"]"
    answer = day.client.post(
        f"{day.url}/v1/scans",
        content=huge,
        headers={**day.as_user("staff1"), "Content-Type": "application/json"},
    )
    assert_error(answer, 413, "bytes")

    def streamed() -> Iterator[bytes]:  # no Content-Length: chunked, counted as it arrives
        yield b"["
        for _ in range(3000):
            yield b" " * 1000
        yield b"]"

    chunked = day.client.post(
        f"{day.url}/v1/scans",
        content=streamed(),
        headers={**day.as_user("staff1"), "Content-Type": "application/json"},
    )
    assert_error(chunked, 413, "bytes")


# --- delivery with a one-time code -------------------------------------------------------------


def test_delivery_needs_the_one_time_code(day: Day) -> None:
    """Staff issue a code for R1; c1's 'delivered' with a wrong code is flagged and the status
    stays out_for_delivery; with the right code it is delivered; the code is single use."""
    _ensure_out_for_delivery(day)
    issued = day.client.post(
        f"{day.url}/v1/dossiers/{R1}/delivery-code", headers=day.as_user("staff1")
    )
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    wrong = "000000" if code != "000000" else "111111"
    bad = day.scan(
        "c1", {"event_id": new_id(), "dossier": R1, "type": "delivered", "at": ago(2),
               "lat": 9.185, "lon": 105.139, "proof": {"code": wrong}}
    ).json()["results"][0]  # fmt: skip
    assert bad["status"] == "flagged"
    assert dossier(day, R1)["status"] == "out_for_delivery"
    good = day.scan(
        "c1", {"event_id": new_id(), "dossier": R1, "type": "delivered", "at": ago(1),
               "lat": 9.185, "lon": 105.139, "proof": {"code": code}}
    ).json()["results"][0]  # fmt: skip
    assert good["status"] == "stored", good
    view = dossier(day, R1)
    assert view["status"] == "delivered"
    assert code not in json.dumps(view)  # only the code's hash is kept


def _ensure_out_for_delivery(day: Day) -> None:
    """Bring R1 to out_for_delivery if the out-of-order test has not run before this one."""
    if dossier(day, R1)["status"] == "out_for_delivery":
        return
    day.scan(
        "staff1",
        {"event_id": new_id(), "dossier": R1, "type": "result_ready", "at": ago(120),
         "site": "centre"},
        {"event_id": new_id(), "dossier": R1, "type": "at_hub", "at": ago(100), "site": "po-cm"},
    )  # fmt: skip
    day.scan(
        "c1",
        {"event_id": new_id(), "dossier": R1, "type": "out_for_delivery", "at": ago(90),
         "site": "po-cm", "job": "R1"},
    )  # fmt: skip
    assert dossier(day, R1)["status"] == "out_for_delivery"


# --- public tracking ----------------------------------------------------------------------------


def test_public_track_needs_the_phone_digits_and_shows_nothing_personal(day: Day) -> None:
    """With the right last 4 phone digits a citizen sees status and expected time, and no
    name, phone, ID number or address; wrong digits and unknown codes look the same (404)."""
    phone = CITIZENS["P3"]["phone"]
    answer = httpx.get(f"{day.url}/v1/track/{P3}", params={"phone_last4": phone[-4:]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"]
    for citizen in CITIZENS.values():
        for value in citizen.values():
            assert value not in answer.text
    assert "ấp 3" not in answer.text
    wrong = httpx.get(f"{day.url}/v1/track/{P3}", params={"phone_last4": "0000"})
    unknown = httpx.get(f"{day.url}/v1/track/H00-NOPE", params={"phone_last4": phone[-4:]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    missing = httpx.get(f"{day.url}/v1/track/{P3}")
    assert_error(missing, 422, "phone_last4")


# --- every role against every object route (OWASP API1) ----------------------------------------

ROLE_MATRIX: list[tuple[str, str, str, dict[str, int]]] = [
    # (method, path, body, expected status per user); bodies that fail validation answer 422
    # once the role is allowed, so "allowed" is anything but 401/403.
    ("POST", "/v1/plans", "{}", {"admin1": 422, "disp1": 422, "staff1": 403, "c1": 403}),
    ("GET", "/v1/plans?date={date}", "", {"admin1": 200, "disp1": 200, "staff1": 200, "c1": 403}),
    ("GET", "/v1/plans/{plan}", "", {"admin1": 200, "disp1": 200, "staff1": 200, "c1": 403}),
    ("POST", "/v1/plans/{plan}/replan", '{"now": "yesterday"}',
     {"admin1": 422, "disp1": 422, "staff1": 403, "c1": 403}),
    ("GET", "/v1/couriers/c1/stops?date={date}", "",
     {"admin1": 200, "disp1": 200, "staff1": 200, "c1": 200, "c2": 403}),
    ("POST", "/v1/couriers/c1/positions", "[]",
     {"admin1": 403, "disp1": 403, "staff1": 403, "c1": 201, "c2": 403}),
    ("POST", "/v1/scans", "[]", {"admin1": 200, "disp1": 403, "staff1": 200, "c1": 200}),
    ("GET", "/v1/dossiers/" + P2, "",
     {"admin1": 200, "disp1": 200, "staff1": 200, "c1": 403, "c2": 403}),
    ("GET", "/v1/dossiers/" + P2 + "?format=epcis", "",
     {"admin1": 200, "staff1": 200, "c2": 403}),
    ("POST", "/v1/dossiers/" + P2 + "/delivery-code", "",
     {"admin1": 422, "disp1": 422, "staff1": 422, "c1": 403, "c2": 403}),
]  # fmt: skip


def test_every_role_against_every_object_route(day: Day) -> None:
    """Each object route lets through exactly the roles it should: a courier never reads
    plans or dossiers, never posts another's positions; dispatchers never scan."""
    plan_id = day.plan["plan_id"]
    failures = []
    for method, path, body, expected in ROLE_MATRIX:
        url = day.url + path.format(date=day.date, plan=plan_id)
        for user, status in expected.items():
            answer = day.client.request(
                method,
                url,
                content=body or None,
                headers={**day.as_user(user), "Content-Type": "application/json"},
            )
            if answer.status_code != status:
                failures.append((method, path, user, status, answer.status_code, answer.text))
            assert "Traceback" not in answer.text
        anonymous = day.client.request(method, url, content=body or None)
        if anonymous.status_code != 401:
            failures.append((method, path, None, 401, anonymous.status_code, anonymous.text))
    assert failures == []


# --- re-planning (last: it stores a newer plan of the day) --------------------------------------


def test_replan_keeps_done_stops_and_plans_an_added_job(day: Day) -> None:
    """A dispatcher re-plans the stored plan with a new pickup P4: the answer is a new stored
    plan (201) in which P1's pickup (done, from the recorded scans) stays done on c1's route
    and P4 is routed or unassigned with a reason; the changes name P4."""
    plan_id = day.plan["plan_id"]
    added = {
        "id": "P4", "kind": "pickup", "dossier": "H12.22-261123-0004", "lat": 9.1760,
        "lon": 105.1500, "window": ["13:00", "16:00"], "service_min": 5,
        "handoff_site": "po-cm", "destination_site": "centre",
        "citizen": {"name": "Võ Văn Em", "phone": "0977000111", "id_number": "096080007777"},
    }  # fmt: skip
    # routing.replan passes no solution limit on yet, so this search is cut by its 1 s; every
    # assertion below holds for whatever it finds, even nothing (P4 is then unassigned, P1
    # stays done from its scans and P4 is listed as added).
    answer = day.client.post(
        f"{day.url}/v1/plans/{plan_id}/replan",
        json={"now": ago(0), "added_jobs": [added], "time_limit_s": 1},
        headers=day.as_user("disp1"),
    )
    assert answer.status_code == 201, answer.text
    new = answer.json()
    assert new["plan_id"] != plan_id
    assert answer.headers["location"] == f"/v1/plans/{new['plan_id']}"
    routed = {s.get("job"): r["courier"] for r in new["routes"] for s in r["stops"]}
    unassigned = {u["job"] for u in new["unassigned"]}
    assert "P4" in routed or "P4" in unassigned
    # P1 was collected and handed over by c1 earlier in this module: kept as done on c1's route
    done_on = {s.get("job"): r["courier"] for r in new["routes"] for s in r.get("done", [])}
    assert done_on.get("P1") == "c1", new["routes"]
    assert "P1" not in routed
    assert "P4" in json.dumps(new.get("changes", []))
    assert "Võ Văn Em" not in answer.text
    stored = day.client.get(f"{day.url}/v1/plans/{new['plan_id']}", headers=day.as_user("staff1"))
    assert stored.json() == new


def test_a_replan_of_a_replan_keeps_the_stops_done_before_the_first(day: Day) -> None:
    """The dispatcher re-plans again, from the newest plan of the day (the re-plan above): the
    scans it reads are those of that plan's remaining stops, where P1 no longer is. P1's done
    stops still stay on c1's ``done`` list, as they were, and P1 is neither routed again nor
    unassigned (a re-plan once listed such jobs as ``window_unreachable``)."""
    listed = day.client.get(
        f"{day.url}/v1/plans", params={"date": day.plan["date"]}, headers=day.as_user("staff1")
    ).json()
    first_id = listed["data"][0]["plan_id"]
    first = day.client.get(f"{day.url}/v1/plans/{first_id}", headers=day.as_user("staff1")).json()
    assert first.get("previous_plan_id"), "the newest plan of the day is the re-plan above"
    kept_before = [s for r in first["routes"] for s in r.get("done", []) if s.get("job") == "P1"]
    answer = day.client.post(
        f"{day.url}/v1/plans/{first_id}/replan",
        json={"now": ago(0), "time_limit_s": 1},
        headers=day.as_user("disp1"),
    )
    assert answer.status_code == 201, answer.text
    second = answer.json()
    assert second["previous_plan_id"] == first_id
    kept = [s for r in second["routes"] for s in r.get("done", []) if s.get("job") == "P1"]
    assert kept_before and kept == kept_before
    assert "P1" not in {u["job"] for u in second["unassigned"]}
    assert "P1" not in {s.get("job") for r in second["routes"] for s in r["stops"]}


def test_server_log_holds_no_personal_data(day: Day) -> None:
    """After every request of this module, the server's log holds no citizen name, phone, ID
    number or tracking digits (access logs are off; errors are logged without values)."""
    log = day.server.log_path.read_text(encoding="utf-8", errors="replace")
    for citizen in CITIZENS.values():
        for value in citizen.values():
            assert value not in log
    assert "phone_last4" not in log
