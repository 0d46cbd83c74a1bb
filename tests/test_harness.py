"""The dev tooling in ``harness/``: benchmarks run without pytest; a taken port is survived."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from harness.server import ROOT, RunningServer, sqlite_url


def test_every_benchmark_imports_without_pytest_or_the_test_suite() -> None:
    """A fresh interpreter in which ``import pytest`` fails loads each ``benchmarks/*.py``
    (without running it) and never imports the ``tests`` package."""
    code = (
        "import sys, runpy, pathlib\n"
        "sys.modules['pytest'] = None\n"
        "for path in sorted(pathlib.Path('benchmarks').glob('*.py')):\n"
        "    runpy.run_path(str(path), run_name='benchmark_' + path.stem)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'tests')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "", f"benchmarks imported: {done.stdout.strip()}"
    assert len(list((ROOT / "benchmarks").glob("*.py"))) >= 10  # the loop above had work


def test_a_server_whose_port_was_taken_meanwhile_starts_on_another(tmp_path: Path) -> None:
    """The port a server picked is bound by someone else before it starts (as when other test
    runs share the machine): it starts on another free port and answers there."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        server = RunningServer(sqlite_url(tmp_path), log_path=tmp_path / "server.log")
        server.port, server.base_url = taken, f"http://127.0.0.1:{taken}"  # as if it picked it
        server.start()
        try:
            assert server.port != taken
            assert httpx.get(f"{server.base_url}/healthz", timeout=30).status_code == 200
            assert "address already in use" in server.log_tail().lower()
        finally:
            server.stop()
