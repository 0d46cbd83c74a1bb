"""Issue 15, item by item: buuta holds against guessing, huge batches, calendar edges, forged
addresses and forged forms, over HTTP against the real server, on SQLite and on PostgreSQL.

The module's server runs the small day of :mod:`harness.api_day` (fixture ``day``); tests that
need other settings start their own servers on a fresh database of the same kind. Tests run in
file order: the cross-site test issues a delivery code for the return ``R1`` before the ID-digit
test delivers it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

import routing
import tracking
from harness.api_day import USERS, ago, auth, new_id, small_request, today_vn
from tests.api.conftest import Day
from tests.support.server import create_tokens, serve, sqlite_url

P1, R1 = "H12.22-261123-0001", "H12.22-261101-0107"
R1_ID_LAST4 = "5678"  # R1's citizen ID number ends in 5678 (harness/api_day.py)
EDGES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00")


def error_of(answer: httpx.Response, status: int) -> dict[str, Any]:
    """Check ``answer`` is a JSON error with ``status`` and return its body."""
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["error"] and body["message"], body
    return body


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Another empty database of the same kind as the module's (for servers with other
    settings)."""
    if database_url.startswith("sqlite"):
        return sqlite_url(tmp_path)
    from tests.support.postgres import fresh_database

    server = request.getfixturevalue("postgres_server")
    return fresh_database(server, f"abuse_{request.node.name.split('[')[0][-40:]}")


def _dossier(day: Day, code: str) -> dict[str, Any]:
    answer = day.client.get(f"{day.url}/v1/dossiers/{code}", headers=day.as_user("staff1"))
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


# --- 6. cross-site forms ----------------------------------------------------------------------


def test_cross_site_posts_with_the_session_cookie_are_refused(day: Day) -> None:
    """A form post from another origin riding on a staff's cookie is refused (403) and issues
    no delivery code; from the server's own origin it passes; a Bearer call is not affected;
    /login refuses cross-origin posts too."""
    path = f"{day.url}/v1/dossiers/{R1}/delivery-code"
    cookie = {"Cookie": f"buuta_token={day.tokens['staff1']}"}
    forged = [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://127.0.0.1:1/form.html"},  # another port of the same host
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
    ]
    for headers in forged:
        answer = httpx.post(path, headers={**cookie, **headers})
        assert "cross-site" in error_of(answer, 403)["message"], headers
    own = httpx.post(path, headers={**cookie, "Origin": day.url, "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 201, own.text
    bearer = httpx.post(path, headers={**day.as_user("staff1"), "Origin": "http://evil.example"})
    assert bearer.status_code == 201, bearer.text
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    login = f"token={day.tokens['staff1']}"
    evil = httpx.post(
        f"{day.url}/login", content=login, headers={**form, "Origin": "http://evil.example"}
    )
    assert evil.status_code == 403
    assert "set-cookie" not in evil.headers
    mine = httpx.post(f"{day.url}/login", content=login, headers={**form, "Origin": day.url})
    assert mine.status_code == 303
    assert "buuta_token=" in mine.headers["set-cookie"]


# --- 1. ID digits ----------------------------------------------------------------------------


def _out_for_delivery(day: Day) -> None:
    if _dossier(day, R1)["status"] == "out_for_delivery":
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
    assert _dossier(day, R1)["status"] == "out_for_delivery"


def _delivered(digits: str) -> dict[str, Any]:
    return {"event_id": new_id(), "dossier": R1, "type": "delivered", "at": ago(1),
            "lat": 9.185, "lon": 105.139, "proof": {"id_last4": digits}}  # fmt: skip


def test_id_digits_stop_after_five_wrong_tries_across_requests_and_processes(
    day: Day, tmp_path: Path
) -> None:
    """Wrong ID digits are counted in the database: three in one batch to the module's server
    and two in separate requests to a second server process on the same database make five;
    then even the right digits are flagged ``id_digits_blocked`` and the result stays out for
    delivery. A staff decision lets the digits be tried again and is recorded; the right
    digits then deliver."""
    _out_for_delivery(day)
    first = day.scan("c1", _delivered("0000"), _delivered("0001"), _delivered("0002"))
    results = first.json()["results"]
    assert [r["reason_code"] for r in results] == ["id_digits_wrong"] * 3
    assert "2 tries left" in results[-1]["reason"]
    with serve(day.server.database_url, log_path=tmp_path / "second.log") as second:
        token = day.tokens["c1"]
        answers = [
            httpx.post(f"{second.base_url}/v1/scans", json=[_delivered(d)], headers=auth(token))
            for d in ("0003", "0004")
        ]
    codes = [a.json()["results"][0]["reason_code"] for a in answers]
    assert codes == ["id_digits_wrong", "id_digits_blocked"]
    right = day.scan("c1", _delivered(R1_ID_LAST4)).json()["results"][0]
    assert right["status"] == "flagged"
    assert right["reason_code"] == "id_digits_blocked"
    assert "one-time code" in right["reason"]
    view = _dossier(day, R1)
    assert view["status"] == "out_for_delivery"
    assert view["identity_check"]["id_digits_blocked"] is True
    assert R1_ID_LAST4 not in json.dumps(view["identity_check"])
    # only staff may decide
    path = f"{day.url}/v1/dossiers/{R1}/id-check/clear"
    assert day.client.post(path, headers=day.as_user("c1")).status_code == 403
    cleared = day.client.post(path, headers=day.as_user("staff1"))
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["id_wrong_tries_cleared"] == 5
    assert cleared.json()["cleared_by"] == "staff1"
    check = _dossier(day, R1)["identity_check"]
    assert (check["id_wrong_tries"], check["cleared_by"]) == (0, "staff1")
    again = day.scan("c1", _delivered(R1_ID_LAST4)).json()["results"][0]
    assert again["status"] == "stored", again
    assert _dossier(day, R1)["status"] == "delivered"


# --- 2. huge batches -------------------------------------------------------------------------


def test_huge_batches_are_refused_by_count_and_others_are_served_meanwhile(day: Day) -> None:
    """600,000 empty objects (1.8 MB, under the byte limit) to /v1/scans and to positions
    answer 413 naming the batch limit, and /healthz answers while they are sent; 500 invalid
    events answer 422 with a bounded list of fields; more than 500 valid ones answer 413; a
    plan request of 400,000 jobs is refused naming the limit before its jobs are validated, a
    job with 400,000 skills as well, and a 422 lists at most 100 fields."""
    huge = b"[" + b",".join([b"{}"] * 600_000) + b"]"
    assert len(huge) < 2_000_000
    staff = {**day.as_user("staff1"), "Content-Type": "application/json"}
    courier = {**day.as_user("c1"), "Content-Type": "application/json"}
    targets = [(f"{day.url}/v1/scans", staff), (f"{day.url}/v1/couriers/c1/positions", courier)]
    with ThreadPoolExecutor(4) as pool:
        sent = [pool.submit(httpx.post, url, content=huge, headers=h, timeout=120)
                for url, h in targets for _ in range(2)]  # fmt: skip
        health = [httpx.get(f"{day.url}/healthz", timeout=120) for _ in range(5)]
        answers = [f.result() for f in sent]
    assert all(h.status_code == 200 for h in health)
    for answer in answers:
        assert "at most 500" in error_of(answer, 413)["message"]
    invalid = [{"event_id": "", "extra": 1, "more": 2} for _ in range(500)]
    body = error_of(day.scan("staff1", *invalid), 422)
    assert 0 < len(body["fields"]) <= 101
    assert body["fields"][0]["field"].startswith("events[0].")
    many = [{"event_id": new_id(), "dossier": P1, "type": "at_hub", "at": ago(1),
             "site": "po-cm"} for _ in range(501)]  # fmt: skip
    assert "at most 500" in error_of(day.scan("staff1", *many), 413)["message"]
    jobs = (
        b'{"date": "2026-11-23", "sites": [], "couriers": [], "jobs": ['
        + b",".join([b"{}"] * 400_000)
        + b"]}"
    )
    plan = httpx.post(
        f"{day.url}/v1/plans",
        content=jobs,
        headers={**day.as_user("disp1"), "Content-Type": "application/json"},
        timeout=120,
    )
    assert "over the limit of 5,000" in error_of(plan, 422)["message"]
    request = small_request(day.date)
    request["jobs"][0]["skills"] = [0] * 400_000  # a list inside a job, also refused at once
    request["travel"] = {"ids": ["x"] * 10, "minutes": [["slow"] * 10] * 20}
    answer = day.client.post(f"{day.url}/v1/plans", json=request, headers=day.as_user("disp1"))
    fields = [f["field"] for f in error_of(answer, 422)["fields"]]
    assert "jobs[0].skills" in fields
    assert len(fields) == 101  # 200 bad minutes and the skills: 100 listed, then a count
    for bad in (b"[", b"[1,]", b"{}", b"[" * 100_000, b"[1e99999999]", b"\xff\xfe"):
        answer = httpx.post(f"{day.url}/v1/scans", content=bad, headers=staff)
        assert answer.status_code == 422, (bad[:10], answer.text)


# --- 3. calendar edges -----------------------------------------------------------------------


def test_calendar_edges_are_422_naming_the_field(day: Day) -> None:
    """Times at the ends of the calendar on scans, positions and a re-plan's ``now`` answer
    422 naming the field, never 500."""
    plan_id = day.plan["plan_id"]
    for edge in EDGES:
        scan = {"event_id": new_id(), "dossier": P1, "type": "at_hub", "at": edge,
                "site": "po-cm"}  # fmt: skip
        body = error_of(day.scan("staff1", scan), 422)
        assert body["fields"][0]["field"] == "events[0].at"
        position = [{"at": edge, "lat": 9.1, "lon": 105.1}]
        answer = day.client.post(
            f"{day.url}/v1/couriers/c1/positions", json=position, headers=day.as_user("c1")
        )
        assert error_of(answer, 422)["fields"][0]["field"] == "positions[0].at"
        answer = day.client.post(
            f"{day.url}/v1/plans/{plan_id}/replan",
            json={"now": edge, "time_limit_s": 1},
            headers=day.as_user("disp1"),
        )
        assert error_of(answer, 422)["fields"][0]["field"] == "now"
        assert edge not in answer.text  # the value sent is not echoed


# --- 4. plan dates ---------------------------------------------------------------------------


def _far_request() -> dict[str, Any]:
    request = small_request("9999-12-31")
    for job in request["jobs"]:  # dossiers of their own, apart from the module's day
        job["dossier"] = job["dossier"].replace("H12.22", "H99.99")
    return request


def test_plan_dates_far_from_today_are_refused_and_stored_ones_still_read(day: Day) -> None:
    """A plan dated 9999-12-31 (or two years ahead) is refused with 422 naming ``date``. One
    stored that way before the check existed still reads: the plan, the public lookup, the
    dossier view, the stop list and the pages about it answer 200."""
    for date in ("9999-12-31", "0001-01-01", str(int(today_vn()[:4]) + 2) + today_vn()[4:]):
        answer = day.client.post(
            f"{day.url}/v1/plans", json=small_request(date), headers=day.as_user("disp1")
        )
        assert error_of(answer, 422)["message"].startswith("date:")
    request = _far_request()
    plan = routing.plan_request(request, time_limit_s=1)
    engine = tracking.make_engine(day.server.database_url)
    try:
        with tracking.write_lock(engine), Session(engine) as session:
            plan_id = tracking.store_plan(
                session=session, request=request, plan=plan, created_by="disp1"
            ).id
    finally:
        engine.dispose()
    staff, courier = day.as_user("staff1"), day.as_user("c1")
    code = "H99.99-261101-0107"
    reads = [
        (f"/v1/plans/{plan_id}", staff),
        (f"/v1/dossiers/{code}", staff),
        ("/v1/couriers/c1/stops?date=9999-12-31", courier),
        (f"/plans/{plan_id}/map", staff),
        (f"/dossiers/{code}/map", staff),
        ("/progress?date=9999-12-31", staff),
        ("/couriers/c1/stops?date=9999-12-31", courier),
    ]
    for path, headers in reads:
        answer = day.client.get(f"{day.url}{path}", headers=headers)
        assert answer.status_code == 200, (path, answer.text[:300])
    public = day.client.get(f"{day.url}/v1/track/{code}", params={"phone_last4": "4321"})
    assert public.status_code == 200, public.text


# --- 5. forwarded addresses and guesses per code ---------------------------------------------


def _lookup(url: str, code: str, digits: str, forwarded: str | None = None) -> httpx.Response:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return httpx.get(f"{url}/v1/track/{code}", params={"phone_last4": digits}, headers=headers)


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
    fresh_url: str, tmp_path: Path
) -> None:
    """With no trusted proxy, a new X-Forwarded-For on each lookup changes nothing: the 6th
    lookup (limit 5 a minute) is refused, though spread over two server processes (counted in
    the database). Behind a trusted proxy each forwarded client has its own count."""
    env = {"BUUTA_TRACK_LOOKUPS_PER_MINUTE": "5"}
    with (
        serve(fresh_url, env=env, log_path=tmp_path / "a.log") as a,
        serve(fresh_url, env=env, log_path=tmp_path / "b.log") as b,
    ):
        statuses = [
            _lookup((a if i % 2 else b).base_url, "H00-0000", "1234", f"10.0.0.{i}").status_code
            for i in range(6)
        ]
    assert statuses == [404] * 5 + [429]
    trusted = {**env, "BUUTA_TRUSTED_PROXIES": "127.0.0.1,::1"}
    with serve(fresh_url, env=trusted, log_path=tmp_path / "c.log") as proxied:
        # the right-most address that is not a trusted proxy is the client
        clients = [_lookup(proxied.base_url, f"H01-{i:04d}", "1234", f"6.6.6.6, 10.1.0.{i}")
                   for i in range(8)]  # fmt: skip
        assert [c.status_code for c in clients] == [404] * 8
        one = [_lookup(proxied.base_url, f"H02-{i:04d}", "1234", "10.2.0.1") for i in range(6)]
        assert [c.status_code for c in one] == [404] * 5 + [429]


def test_guesses_of_one_code_spread_over_addresses_stop(day: Day, tmp_path: Path) -> None:
    """Behind a trusted proxy, ten wrong-digit lookups of P1's code from ten addresses use up
    the code's budget: the next lookup of that code is refused (429, even with the right
    digits, so a hit cannot be told apart), while other codes are still answered."""
    env = {"BUUTA_TRUSTED_PROXIES": "127.0.0.1", "BUUTA_TRACK_LOOKUPS_PER_MINUTE": "1000"}
    with serve(day.server.database_url, env=env, log_path=tmp_path / "proxied.log") as server:
        wrong = [_lookup(server.base_url, P1, f"{i:04d}", f"10.9.0.{i}") for i in range(10)]
        assert [w.status_code for w in wrong] == [404] * 10
        right = _lookup(server.base_url, P1, "5678", "10.9.1.1")  # P1's phone ends in 5678
        body = error_of(right, 429)
        assert int(right.headers["retry-after"]) > 0
        assert P1 not in body["message"]
        other = _lookup(server.base_url, "H12.22-261123-0002", "2233", "10.9.1.2")
        assert other.status_code == 200, other.text


# --- 7. smaller items ------------------------------------------------------------------------


def test_couriers_learn_nothing_from_errors_and_nothing_sent_is_echoed(day: Day) -> None:
    """A courier gets the same 403 for an unknown dossier code as for another courier's, with
    any site or job, so codes and job ids cannot be probed; error messages repeat neither
    codes, ids nor personal data that were sent."""
    base = {"type": "at_hub", "at": ago(1), "site": "po-tvt"}
    unknown = day.scan("c2", {**base, "event_id": new_id(), "dossier": "H77.77-000000-0001"})
    others = day.scan("c2", {**base, "event_id": new_id(), "dossier": R1})
    wrong_site = day.scan("c2", {**base, "event_id": new_id(), "dossier": R1, "site": "po-nowhere"})
    wrong_job = day.scan("c2", {**base, "event_id": new_id(), "dossier": R1, "job": "J-guess"})
    messages = {error_of(a, 403)["message"] for a in (unknown, others, wrong_site, wrong_job)}
    assert len(messages) == 1, messages
    assert "H77.77" not in unknown.text and R1 not in others.text and "R1" not in wrong_job.text
    secret = "H55.55-SECRET-0001"
    staff = day.scan("staff1", {**base, "event_id": new_id(), "dossier": secret})
    assert secret not in error_of(staff, 422)["message"]
    assert (
        secret
        not in error_of(
            day.client.get(f"{day.url}/v1/dossiers/{secret}", headers=day.as_user("staff1")), 404
        )["message"]
    )
    name = "Nguyễn Văn Bí Mật"
    request = small_request(day.date)
    request["jobs"][0]["kind"] = name
    request["jobs"][1]["window"] = [name, "0987 654 321"]
    answer = day.client.post(f"{day.url}/v1/plans", json=request, headers=day.as_user("disp1"))
    assert answer.status_code == 422
    assert name not in answer.text and "0987 654 321" not in answer.text
    bad_time = {**base, "event_id": new_id(), "dossier": P1, "site": "po-cm", "at": name}
    assert name not in day.scan("staff1", bad_time).text


def test_a_dispatchers_solve_time_is_capped(fresh_url: str, tmp_path: Path) -> None:
    """A dispatcher asking for an hour of solving gets the dispatchers' cap (1 s here), so the
    shared solver is not held; the plan is answered (an uncapped solve would not answer
    within the client's 120 s)."""
    env = {"BUUTA_SOLVE_TIME_LIMIT_DISPATCHER_CAP_S": "1", "BUUTA_SOLVE_GRACE_S": "5"}
    with serve(fresh_url, env=env, log_path=tmp_path / "cap.log") as server:
        token = create_tokens(fresh_url, USERS)["disp1"]
        request = small_request(today_vn(), time_limit_s=3600)
        answer = httpx.post(
            f"{server.base_url}/v1/plans", json=request, headers=auth(token), timeout=120
        )
    assert answer.status_code == 201, answer.text


def test_openapi_still_documents_the_list_bodies(day: Day) -> None:
    """The scan and position routes read their bodies themselves; OpenAPI still shows them."""
    spec = day.client.get(f"{day.url}/openapi.json").json()
    schemas = spec["components"]["schemas"]
    scans = spec["paths"]["/v1/scans"]["post"]["requestBody"]["content"]["application/json"]
    assert scans["schema"]["type"] == "array"
    assert scans["schema"]["items"] == {"$ref": "#/components/schemas/ScanEventIn"}
    assert "event_id" in schemas["ScanEventIn"]["properties"]
    positions = spec["paths"]["/v1/couriers/{courier_id}/positions"]["post"]["requestBody"]
    item = positions["content"]["application/json"]["schema"]["items"]["$ref"]
    assert "accuracy_m" in schemas[item.rsplit("/", 1)[-1]]["properties"]
