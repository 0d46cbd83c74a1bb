"""Beyond one machine, on PostgreSQL: API processes side by side, solves on a task queue.

- Two ``buuta serve`` processes on two ports share one database; phones send each batch to
  either of them at random (a load balancer), many events twice, so that the same event often
  reaches both servers at about the same time.
- With ``BUUTA_SOLVER_QUEUE=true`` the servers start no solver process of their own; a
  ``buuta worker`` process started by the test takes the solves off the queue in PostgreSQL.
  Two districts' days posted at the same time are planned by two worker slots in parallel; an
  invalid request still gets a 422 naming the field.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from routing.sample_day import camau_day
from tests.resilience.fleet import make_fleet, make_outboxes, register_fleet, send_all, verify
from tests.support.server import ROOT, RunningServer, create_tokens

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ENV = {"PYTHONDONTWRITEBYTECODE": ""}


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def test_two_api_processes_store_each_event_once(postgres_server: Any, tmp_path: Path) -> None:
    """Phones behind a load balancer send to two servers on one database, with 40 % of the
    events sent twice: every event has exactly one row and every dossier the right status."""
    from tests.support.postgres import fresh_database

    url = fresh_database(postgres_server, "scale_two_servers")
    fleet = make_fleet(couriers=12, dossiers_per_courier=12, seed=5)
    first = RunningServer(url, env=ENV, log_path=tmp_path / "a.log")
    second = RunningServer(url, env=ENV, log_path=tmp_path / "b.log")
    first.start()
    second.start()
    try:
        tokens = register_fleet(url, fleet)
        boxes, sends = make_outboxes(fleet, tokens, resend_share=0.4, seed=5)
        rng = random.Random(5)
        lock = threading.Lock()
        used: dict[str, int] = {first.base_url: 0, second.base_url: 0}

        def balancer() -> str:
            with lock:
                url_ = rng.choice([first.base_url, second.base_url])
                used[url_] += 1
                return url_

        stats = send_all(balancer, boxes, batch=20, clients=8)
        guesses = _guess_codes([first.base_url, second.base_url], fleet.date, tries=300)
    finally:
        first.stop()
        second.stop()
    assert stats.failures == {}
    assert min(used.values()) > 10, used  # both servers took a real share
    assert stats.answers["duplicate"] >= sends - len(fleet.scans())
    verdict = verify(url, fleet)
    assert verdict.ok, verdict.summary()
    assert verdict.stored == verdict.events
    # Each process counts public lookups on its own: two processes allow twice the limit per
    # client, but guessing is still throttled with no hit (README: limit in the proxy too).
    assert guesses.get(200, 0) == 0, guesses
    assert set(guesses) <= {404, 429}, guesses
    assert 0 < guesses.get(404, 0) <= 2 * 20, guesses


def _guess_codes(urls: list[str], date: str, *, tries: int) -> dict[int, int]:
    """Look up ``tries`` guessed dossier codes, alternating between ``urls``; count statuses."""
    rng = random.Random(3)
    stamp = date.replace("-", "")[2:]
    statuses: dict[int, int] = {}
    with httpx.Client(timeout=30) as client:
        for n in range(tries):
            code = f"H12.22-{stamp}-{rng.randrange(100_000):05d}"
            answer = client.get(
                f"{urls[n % len(urls)]}/v1/track/{code}",
                params={"phone_last4": f"{rng.randrange(10_000):04d}"},
            )
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
    return statuses


@pytest.fixture
def queued(postgres_server: Any, tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:
    """A server with BUUTA_SOLVER_QUEUE=true and a ``buuta worker --concurrency 2`` beside it;
    yields the server and a dispatcher's token."""
    from tests.support.postgres import fresh_database

    url = fresh_database(postgres_server, "scale_queue")
    env = {**ENV, "BUUTA_SOLVER_QUEUE": "true", "BUUTA_SOLVE_GRACE_S": "20"}
    server = RunningServer(url, env=env, log_path=tmp_path / "server.log")
    server.start()
    worker_log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "api", "worker", "--concurrency", "2"],
        cwd=ROOT,
        env={**os.environ, **ENV, "BUUTA_DATABASE_URL": url},
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        token = create_tokens(url, {"disp-q": "dispatcher"})["disp-q"]
        yield server, token
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        worker_log.close()
        server.stop()


def _district(request: dict[str, Any], office: str) -> dict[str, Any]:
    """The part of a province's day that one district's post office serves."""
    jobs = [j for j in request["jobs"] if office in (j.get("handoff_site"), j.get("origin_site"))]
    couriers = [c for c in request["couriers"] if c["start_site"] == office]
    return {**request, "jobs": jobs, "couriers": couriers}


def test_worker_from_the_queue_solves_posted_plans(
    queued: tuple[RunningServer, str], tmp_path: Path
) -> None:
    """Two districts posted at once are planned by the worker (the server runs no solver
    process), stored, and readable; the worker's log holds no citizen's personal data; an
    invalid request gets 422 naming the field."""
    server, token = queued
    headers = {"Authorization": f"Bearer {token}"}
    day = camau_day(jobs=24, seed=9)
    day["options"] = {"time_limit_s": 30, "solution_limit": 10}  # the same on any machine
    offices = sorted({c["start_site"] for c in day["couriers"]})[:2]
    districts = [_district(day, office) for office in offices]
    answers: dict[str, httpx.Response] = {}

    def post(office: str, request: dict[str, Any]) -> None:
        answers[office] = httpx.post(
            f"{server.base_url}/v1/plans", json=request, headers=headers, timeout=120
        )

    threads = [
        threading.Thread(target=post, args=(o, r)) for o, r in zip(offices, districts, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for office, request in zip(offices, districts, strict=True):
        answer = answers[office]
        assert answer.status_code == 201, answer.text
        plan = answer.json()
        routed = {s["job"] for r in plan["routes"] for s in r["stops"] if s.get("job")}
        unassigned = {u["job"] for u in plan["unassigned"]}
        assert routed | unassigned == {j["id"] for j in request["jobs"]}
        stored = httpx.get(f"{server.base_url}/v1/plans/{plan['plan_id']}", headers=headers)
        assert stored.status_code == 200
        assert stored.json()["plan_id"] == plan["plan_id"]
    assert server.process is not None
    assert _children(server.process.pid) == []  # no solver process in the server
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert log.count("solved ") >= 2, log[-2000:]
    # Citizens' personal data never travels over the queue, so no worker can log it.
    for job in day["jobs"]:
        citizen = job["citizen"]
        for value in (citizen["phone"], citizen["id_number"], citizen["name"], job["address"]):
            assert value not in log
    bad = {**districts[0], "jobs": [{**districts[0]["jobs"][0], "window": ["25:00", "26:00"]}]}
    refused = httpx.post(f"{server.base_url}/v1/plans", json=bad, headers=headers, timeout=120)
    assert refused.status_code == 422, refused.text
    assert "jobs[0].window" in refused.json()["message"]
