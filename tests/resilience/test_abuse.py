"""Abuse and privacy: guessing dossier codes, and where citizens' personal data may appear.

One real server (SQLite file) plans a sample Cà Mau day whose jobs carry citizens' names,
phones, ID numbers and addresses (``routing.sample_day.camau_day``). A full scenario then runs
through the HTTP API and the pages, every role doing its work: the dispatcher plans (once with a
malformed citizen too), couriers read their stops (and try another courier's), scan, deliver
with proof (once with wrong ID digits) and send positions; staff read dossiers and exports and
issue a one-time code; citizens look up their dossiers with and without the right phone digits.
Every answer body and every line the server printed are kept and searched.

The rule checked: a citizen's phone, address and name appear only in answers to staff,
dispatchers and administrators, and to the courier whose route carries that citizen's job;
the citizen ID number appears nowhere; the server's output holds none of them.
"""

from __future__ import annotations

import html
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from routing.sample_day import camau_day
from tests.support.server import RunningServer, create_tokens, sqlite_url

VN = timezone(timedelta(hours=7))
STAFF_ROLES = ("admin", "dispatcher", "staff")


def _today_vn() -> str:
    return datetime.now(VN).date().isoformat()


def _ago_iso(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(VN).isoformat()


@dataclass
class Seen:
    """One answer the scenario received: who asked, what, and the body as text."""

    who: str
    role: str
    what: str
    status: int
    text: str


@dataclass
class Scenario:
    """The running server, the day, the users and every answer seen."""

    server: RunningServer
    request: dict[str, Any]
    plan: dict[str, Any]
    tokens: dict[str, str]
    roles: dict[str, str]
    seen: list[Seen] = field(default_factory=list)
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=120))

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request as user ``who`` (``anonymous``: no token) and keep the answer."""
        headers = dict(kwargs.pop("headers", {}))
        if who != "anonymous":
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        answer = self.client.request(
            method, f"{self.server.base_url}{path}", headers=headers, **kwargs
        )
        self.seen.append(
            Seen(who, self.roles.get(who, "anonymous"), f"{method} {path}", answer.status_code,
                 _readable(answer))
        )  # fmt: skip
        return answer

    def courier_jobs(self, courier: str) -> set[str]:
        """Job ids on ``courier``'s route."""
        for route in self.plan["routes"]:
            if route["courier"] == courier:
                return {str(s["job"]) for s in route["stops"] if s.get("job")}
        return set()


def _readable(answer: httpx.Response) -> str:
    """The body as a human reads it: JSON without escapes, HTML without entities."""
    text = answer.text
    if answer.headers.get("content-type", "").startswith("application/json"):
        try:
            return json.dumps(answer.json(), ensure_ascii=False)
        except ValueError:
            return text
    return html.unescape(text)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """A server on a new SQLite file with a planned 14-job sample day and a user per role and
    courier (default public lookup limit: 20 a minute per client)."""
    tmp = tmp_path_factory.mktemp("abuse")
    server = RunningServer(
        sqlite_url(tmp), env={"PYTHONDONTWRITEBYTECODE": ""}, log_path=tmp / "server.log"
    )
    server.start()
    try:
        today = _today_vn()
        request = camau_day(jobs=14, seed=11, date=today)
        request["options"] = {"time_limit_s": 30, "solution_limit": 10}  # same on any machine
        roles = {"admin-1": "admin", "disp-1": "dispatcher", "staff-1": "staff"}
        roles.update({str(c["id"]): "courier" for c in request["couriers"]})
        tokens = create_tokens(server.database_url, roles)
        s = Scenario(server, request, {}, tokens, roles)
        answer = s.call("disp-1", "POST", "/v1/plans", json=request)
        assert answer.status_code == 201, answer.text
        s.plan = answer.json()
        yield s
        s.client.close()
    finally:
        server.stop()


def _run_full_scenario(s: Scenario) -> None:
    """Every role does its work (module docstring)."""
    plan_id, date = s.plan["plan_id"], s.plan["date"]
    jobs = {str(j["id"]): j for j in s.request["jobs"]}
    couriers = [str(c["id"]) for c in s.request["couriers"]]
    # A malformed citizen (phone as a list) and a bad window: refused, nothing echoed or logged.
    bad = json.loads(json.dumps(s.request))
    bad["jobs"][0]["citizen"]["phone"] = [bad["jobs"][0]["citizen"]["phone"]]
    bad["jobs"][1]["window"] = ["25:00", bad["jobs"][1]["citizen"]["id_number"]]
    assert s.call("disp-1", "POST", "/v1/plans", json=bad).status_code == 422
    for who in ("disp-1", "staff-1", "admin-1"):
        assert s.call(who, "GET", f"/v1/plans/{plan_id}").status_code == 200
        assert s.call(who, "GET", f"/v1/plans?date={date}").status_code == 200
        for courier in couriers:
            s.call(who, "GET", f"/v1/couriers/{courier}/stops?date={date}")
    for courier in couriers:
        assert (
            s.call(courier, "GET", f"/v1/couriers/{courier}/stops?date={date}").status_code == 200
        )
        other = next(c for c in couriers if c != courier)
        assert s.call(courier, "GET", f"/v1/couriers/{other}/stops?date={date}").status_code == 403
        s.call(courier, "GET", f"/couriers/{courier}/stops?date={date}")
        s.call(courier, "GET", f"/couriers/{other}/stops?date={date}")
        position = {"at": _ago_iso(1), "lat": 9.18, "lon": 105.15}
        s.call(courier, "POST", f"/v1/couriers/{courier}/positions", json=[position])
    # Scans: each courier collects its pickups; returns are made ready, taken out, delivered
    # (first with wrong ID digits, then the right ones).
    for route in s.plan["routes"]:
        courier = str(route["courier"])
        for job_id in sorted(s.courier_jobs(courier)):
            job = jobs[job_id]
            code = job["dossier"]
            if job["kind"] == "pickup":
                event = {"event_id": str(uuid.uuid4()), "dossier": code, "type": "collected",
                         "at": _ago_iso(30), "job": job_id, "lat": job["lat"],
                         "lon": job["lon"]}  # fmt: skip
                assert s.call(courier, "POST", "/v1/scans", json=[event]).status_code == 200
                continue
            ready = {"event_id": str(uuid.uuid4()), "dossier": code, "type": "result_ready",
                     "at": _ago_iso(60), "site": job["origin_site"]}  # fmt: skip
            assert s.call("staff-1", "POST", "/v1/scans", json=[ready]).status_code == 200
            wrong = "".join(str((int(d) + 1) % 10) for d in job["citizen"]["id_number"][-4:])
            events = [
                {"event_id": str(uuid.uuid4()), "dossier": code, "type": "out_for_delivery",
                 "at": _ago_iso(40), "job": job_id},
                {"event_id": str(uuid.uuid4()), "dossier": code, "type": "delivered",
                 "at": _ago_iso(20), "job": job_id, "proof": {"id_last4": wrong}},
                {"event_id": str(uuid.uuid4()), "dossier": code, "type": "delivered",
                 "at": _ago_iso(10), "job": job_id,
                 "proof": {"id_last4": job["citizen"]["id_number"][-4:]}},
            ]  # fmt: skip
            assert s.call(courier, "POST", "/v1/scans", json=events).status_code == 200
    # Staff read every dossier, its exports and maps; a one-time code for a return.
    for job in jobs.values():
        code = job["dossier"]
        s.call("staff-1", "GET", f"/v1/dossiers/{code}")
        s.call("staff-1", "GET", f"/v1/dossiers/{code}?format=upu")
        s.call("staff-1", "GET", f"/v1/dossiers/{code}?format=epcis")
        s.call("staff-1", "GET", f"/dossiers/{code}/map")
        s.call("admin-1", "GET", f"/v1/dossiers/{code}")
    returns = [j for j in jobs.values() if j["kind"] == "return"]
    if returns:
        s.call("staff-1", "POST", f"/v1/dossiers/{returns[0]['dossier']}/delivery-code")
    s.call("disp-1", "GET", f"/plans/{plan_id}/map")
    s.call("disp-1", "GET", f"/dispatch?date={date}")
    s.call("staff-1", "GET", f"/progress?date={date}")
    # Citizens: right digits, wrong digits, and someone else's dossier (a few, under the limit).
    for job in list(jobs.values())[:5]:
        code, phone = job["dossier"], job["citizen"]["phone"]
        s.call("anonymous", "GET", f"/v1/track/{code}?phone_last4={phone[-4:]}")
        s.call("anonymous", "GET", f"/v1/track/{code}?phone_last4=0000")
    # Everyone tries what is not theirs.
    first = next(iter(jobs.values()))["dossier"]
    for courier in couriers:
        s.call(courier, "GET", f"/v1/dossiers/{first}")
        s.call(courier, "GET", f"/v1/plans/{plan_id}")
    s.call("anonymous", "GET", f"/v1/dossiers/{first}")
    s.call("anonymous", "GET", f"/couriers/{couriers[0]}/stops?date={date}")


def _personal(job: dict[str, Any]) -> dict[str, str]:
    citizen = job.get("citizen") or {}
    out = {"phone": str(citizen.get("phone", "")), "name": str(citizen.get("name", ""))}
    if job.get("address"):
        out["address"] = str(job["address"])
    return {k: v for k, v in out.items() if v}


def test_personal_data_appears_only_where_allowed(scenario: Scenario) -> None:
    """No answer to a citizen, an anonymous client or another courier holds a citizen's phone,
    name or address; no answer at all holds a citizen ID number; the server's output holds none
    of them."""
    s = scenario
    _run_full_scenario(s)
    jobs = {str(j["id"]): j for j in s.request["jobs"]}
    ids = {j["citizen"]["id_number"] for j in jobs.values()}
    leaks: list[str] = []
    for seen in s.seen:
        for id_number in ids:
            if id_number in seen.text:
                leaks.append(f"{seen.who} {seen.what} -> {seen.status}: a citizen ID number")
        if seen.role in STAFF_ROLES:
            continue
        own = s.courier_jobs(seen.who) if seen.role == "courier" else set()
        allowed = {v for j in own for v in _personal(jobs[j]).values()}
        for job_id, job in jobs.items():
            if job_id in own:
                continue
            for kind, value in _personal(job).items():
                if value not in allowed and value in seen.text:
                    leaks.append(f"{seen.who} {seen.what} -> {seen.status}: {kind} of {job_id}")
    log = s.server.log_tail(10_000_000)
    for job_id, job in jobs.items():
        for kind, value in {**_personal(job), "id": job["citizen"]["id_number"]}.items():
            if value in log:
                leaks.append(f"server output: {kind} of {job_id}")
    assert len(s.seen) > 100
    # The scenario really showed personal data where it is allowed (so the search can find it).
    staff_text = " ".join(x.text for x in s.seen if x.role in STAFF_ROLES)
    assert any(_personal(j)["phone"] in staff_text for j in jobs.values())
    own_courier = next(c for c in s.plan["routes"] if s.courier_jobs(c["courier"]))["courier"]
    courier_text = " ".join(x.text for x in s.seen if x.who == own_courier)
    assert any(_personal(jobs[j])["phone"] in courier_text for j in s.courier_jobs(own_courier))
    assert leaks == []


def test_guessing_codes_is_throttled_with_no_hit(scenario: Scenario) -> None:
    """1,000 guessed dossier codes (well formed, random digits) from one client: at most the
    per-minute allowance is answered 404, every other answer is 429 with Retry-After, none is a
    hit; and once throttled, even a real code with the right digits gets 429."""
    s = scenario
    rng = random.Random(1)
    date = s.plan["date"].replace("-", "")[2:]
    statuses: dict[int, int] = {}
    retry_after = set()
    with httpx.Client(timeout=30) as client:
        for _ in range(1000):
            code = f"H12.22-{date}-{rng.randrange(10_000):04d}"
            answer = client.get(
                f"{s.server.base_url}/v1/track/{code}",
                params={"phone_last4": f"{rng.randrange(10_000):04d}"},
            )
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            if answer.status_code == 429:
                retry_after.add(answer.headers.get("retry-after") is not None)
        job = s.request["jobs"][0]
        real = client.get(
            f"{s.server.base_url}/v1/track/{job['dossier']}",
            params={"phone_last4": job["citizen"]["phone"][-4:]},
        )
    assert statuses.get(200, 0) == 0, statuses
    assert set(statuses) <= {404, 429}, statuses
    assert statuses.get(404, 0) <= 20, statuses
    assert statuses[429] >= 980, statuses
    assert retry_after == {True}
    assert real.status_code == 429
