"""A power cut while couriers send scans: every acknowledged event survives (SQLite, PostgreSQL).

The server is SIGKILLed (no shutdown, no flush) while four clients keep sending single events
and small batches. After a restart on the same database, every event the server had answered
for (stored, duplicate or flagged) is in its dossier's history.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from harness.api_day import auth, new_id, small_request, today_vn
from tests.support.server import RunningServer, create_tokens

CODES = ["H12.22-261123-0001", "H12.22-261101-0107", "H12.22-261123-0002", "H12.22-261123-0003"]
SITES = ["po-cm", "po-tvt", "centre"]


def _sender(
    url: str, token: str, worker: int, *, acked: list[str], stop: threading.Event, batch: int
) -> None:
    """Send scans until the server dies or ``stop`` is set; record acknowledged event ids."""
    n = 0
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            events = []
            for _ in range(batch):
                n += 1
                events.append(
                    {
                        "event_id": new_id(),
                        "dossier": CODES[(worker + n) % len(CODES)],
                        "type": "at_hub",
                        "at": f"2026-11-20T{8 + n % 9:02d}:{n % 60:02d}:00+07:00",
                        "site": SITES[n % len(SITES)],
                    }
                )
            try:
                answer = client.post(f"{url}/v1/scans", json=events, headers=auth(token))
            except httpx.HTTPError:
                return  # the server is gone
            if answer.status_code != 200:
                return
            for result in answer.json()["results"]:
                if result["status"] in ("stored", "duplicate", "flagged"):
                    acked.append(result["event_id"])


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_loses_no_acknowledged_scan(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """SIGKILL during a stream of scans, restart: all acknowledged event ids are stored."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.sqlite'}"
    else:
        from tests.support.postgres import fresh_database

        url = fresh_database(request.getfixturevalue("postgres_server"), "api_crash")
    server = RunningServer(url, log_path=tmp_path / "server.log")
    server.start()
    try:
        tokens = create_tokens(url, {"disp1": "dispatcher", "staff1": "staff"})
        planned = httpx.post(
            f"{server.base_url}/v1/plans",
            json=small_request(today_vn()),
            headers=auth(tokens["disp1"]),
            timeout=120,
        )
        assert planned.status_code == 201, planned.text

        acked: list[str] = []
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_sender,
                args=(server.base_url, tokens["staff1"], w),
                kwargs={"acked": acked, "stop": stop, "batch": 1 if w < 2 else 10},
            )
            for w in range(4)
        ]
        for t in threads:
            t.start()
        # Ends as soon as 200 are acknowledged; the long deadline only bounds a broken server
        # (30 s was short for four senders on a busy machine).
        deadline = time.monotonic() + 300
        while len(acked) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # mid-stream: requests are in flight
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert len(acked) >= 200, f"only {len(acked)} events acknowledged before the kill"

        server.start()
        stored: set[str] = set()
        with httpx.Client(timeout=30) as client:
            for code in CODES:
                view = client.get(
                    f"{server.base_url}/v1/dossiers/{code}", headers=auth(tokens["staff1"])
                )
                assert view.status_code == 200, view.text
                stored.update(str(e["event_id"]) for e in view.json()["history"])
        missing = [e for e in acked if e not in stored]
        assert missing == [], f"{len(missing)} acknowledged events lost of {len(acked)}"
    finally:
        server.stop()
