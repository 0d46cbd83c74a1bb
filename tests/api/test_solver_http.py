"""A solver process that dies mid-solve answers 503 JSON, and the service carries on."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx

from harness.api_day import auth, small_request, today_vn
from tests.support.server import create_tokens, serve, sqlite_url


def _solver_pids(server_pid: int) -> list[int]:
    """Process ids of the server's solver workers (its children started by multiprocessing)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server_pid and "spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used, in seconds."""
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_solving(pid: int, before_s: float, *, timeout_s: float = 120) -> None:
    """Wait until the idle worker ``pid`` has used half a second of CPU more than ``before_s``:
    it is searching. (A fixed sleep would kill an idle worker on a busy machine.)"""
    deadline = time.monotonic() + timeout_s
    while _cpu_seconds(pid) < before_s + 0.5:
        assert time.monotonic() < deadline, "the solver worker never started the solve"
        time.sleep(0.05)


def test_killed_solver_answers_503_and_the_next_plan_works(tmp_path: Path) -> None:
    """SIGKILL the solver process during a solve: that request gets 503 with a JSON message,
    /healthz stays 200, and the next plan request is solved by a fresh worker (201)."""
    url = sqlite_url(tmp_path)
    with serve(url, log_path=tmp_path / "server.log") as server:
        token = create_tokens(url, {"disp1": "dispatcher"})["disp1"]
        headers = auth(token)
        warm = httpx.post(
            f"{server.base_url}/v1/plans",
            json=small_request(today_vn()),
            headers=headers,
            timeout=120,
        )
        assert warm.status_code == 201, warm.text
        assert server.process is not None
        workers = _solver_pids(server.process.pid)
        assert len(workers) == 1, workers

        answers: list[httpx.Response] = []
        # A search long enough to be caught in the act (no solution limit): it is killed anyway.
        slow = small_request(today_vn(), time_limit_s=60, solution_limit=None)
        busy_before = _cpu_seconds(workers[0])
        thread = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{server.base_url}/v1/plans", json=slow, headers=headers, timeout=120)
            )
        )
        thread.start()
        _wait_until_solving(workers[0], busy_before)
        os.kill(workers[0], signal.SIGKILL)
        thread.join(timeout=60)
        assert answers, "the plan request never answered"
        crashed = answers[0]
        assert crashed.status_code == 503, crashed.text
        body = crashed.json()
        assert body["error"] == "solver_unavailable"
        assert "stopped unexpectedly" in body["message"]
        assert crashed.headers.get("retry-after")

        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
        again = httpx.post(
            f"{server.base_url}/v1/plans",
            json=small_request(today_vn()),
            headers=headers,
            timeout=120,
        )
        assert again.status_code == 201, again.text
        assert _solver_pids(server.process.pid) not in ([], workers)
