"""The ``buuta`` command, run as a user runs it (a subprocess): plan, user add, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.api_day import small_request
from tests.support.server import ROOT, add_user, serve, sqlite_url


def buuta(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``buuta ARGS`` and return the finished process (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def request_file(tmp_path: Path) -> Path:
    """The small hand-made day of the API tests, written to a JSON file."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(small_request("2026-11-23"), ensure_ascii=False), encoding="utf-8")
    return path


def test_help_lists_the_commands() -> None:
    """``buuta --help`` names plan, serve, user and demo."""
    done = buuta("--help")
    assert done.returncode == 0, done.stderr
    for command in ("plan", "serve", "user", "demo"):
        assert command in done.stdout


def test_plan_writes_a_plan_with_every_job_once(request_file: Path, tmp_path: Path) -> None:
    """``buuta plan -o --check`` writes the plan JSON, prints a summary with the independent
    checker's verdict (no broken promise) and a progress line."""
    out = tmp_path / "plan.json"
    done = buuta("plan", str(request_file), "-o", str(out), "--time-limit", "1", "--check")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "checker: 0 broken promise(s)" in done.stdout
    plan = json.loads(out.read_text(encoding="utf-8"))
    routed = [s["job"] for r in plan["routes"] for s in r["stops"] if s.get("job")]
    unassigned = [u["job"] for u in plan["unassigned"]]
    assert sorted(routed + unassigned) == ["P1", "P2", "P3", "R1"]
    assert f"served {len(routed)} of 4 jobs" in done.stdout
    assert "shuttle runs:" in done.stdout
    assert "searching:" in done.stderr  # the progress line (best cost, elapsed)
    # The optimizer never copies the citizens' personal data into the plan.
    assert "Nguyễn Văn An" not in out.read_text(encoding="utf-8")


def test_plan_prints_the_plan_to_stdout_without_output_file(request_file: Path) -> None:
    """Without ``-o`` the plan is the whole of stdout (JSON) and the summary goes to stderr."""
    done = buuta("plan", str(request_file), "--time-limit", "1")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["date"] == "2026-11-23"
    assert "served" in done.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_plan_bad_files_exit_2_with_a_message(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    """A missing, malformed or non-object file exits 2 with a message naming the file."""
    path = tmp_path / "req.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    done = buuta("plan", str(path))
    assert done.returncode == 2
    assert expected in done.stderr
    assert str(path) in done.stderr
    assert "Traceback" not in done.stderr


def test_plan_invalid_request_names_the_field(tmp_path: Path) -> None:
    """A request whose job window ends before it starts exits 2 naming ``jobs[0].window``."""
    request = small_request("2026-11-23")
    request["jobs"][0]["window"] = ["11:00", "09:00"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    done = buuta("plan", str(path), "--time-limit", "1")
    assert done.returncode == 2
    assert "jobs[0].window" in done.stderr
    assert "Traceback" not in done.stderr


def test_user_add_prints_a_working_token_last(tmp_path: Path) -> None:
    """``buuta user add`` prints a token as its last word, and the server accepts it."""
    url = sqlite_url(tmp_path)
    with serve(url) as server:
        token = add_user(url, "c9", "courier")
        answer = httpx.get(
            f"{server.base_url}/v1/couriers/c9/stops",
            params={"date": "2026-11-23"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["stops"] == []
        other = httpx.get(
            f"{server.base_url}/v1/couriers/c1/stops",
            params={"date": "2026-11-23"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert other.status_code == 403


def test_user_add_rejects_unknown_role_and_duplicate_name(tmp_path: Path) -> None:
    """An unknown role or a name already taken exits 2 with a message, no traceback."""
    env = {"BUUTA_DATABASE_URL": sqlite_url(tmp_path)}
    done = buuta("user", "add", "x1", "--role", "boss", env=env)
    assert done.returncode == 2
    assert "unknown role 'boss'" in done.stderr
    first = buuta("user", "add", "x1", "--role", "staff", env=env)
    assert first.returncode == 0, first.stderr
    again = buuta("user", "add", "x1", "--role", "staff", env=env)
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_plan_places_jobs_given_by_address(tmp_path: Path) -> None:
    """A job with an address and no coordinates is placed by the offline gazetteer and
    planned; an address that names no place exits 2 naming ``jobs[i].address``."""
    request = small_request("2026-11-23")
    job = request["jobs"][2]
    del job["lat"], job["lon"]  # "ấp 3, xã Khánh Bình": the ward's point
    path = tmp_path / "by-address.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    out = tmp_path / "plan.json"
    done = buuta("plan", str(path), "-o", str(out), "--time-limit", "1")
    assert done.returncode == 0, done.stderr
    assert "placed 1 job(s) by address" in done.stderr
    plan = json.loads(out.read_text(encoding="utf-8"))
    jobs = [s.get("job") for r in plan["routes"] for s in r["stops"]]
    jobs += [u["job"] for u in plan["unassigned"]]
    assert "P2" in jobs
    job["address"] = "nowhere at all"
    path.write_text(json.dumps(request), encoding="utf-8")
    bad = buuta("plan", str(path), "--time-limit", "1")
    assert bad.returncode == 2
    assert "jobs[2].address" in bad.stderr


def test_serve_refuses_a_database_it_cannot_open(tmp_path: Path) -> None:
    """``buuta serve`` on a URL of another database kind, or on a PostgreSQL server that does
    not answer, exits 2 with a message (password hidden), not a traceback."""
    other = buuta("serve", env={"BUUTA_DATABASE_URL": "mysql://u:p@localhost/x"})
    assert other.returncode == 2
    assert "BUUTA_DATABASE_URL" in other.stderr
    dead = buuta(
        "serve",
        env={"BUUTA_DATABASE_URL": "postgresql+psycopg://u:secret@127.0.0.1:9/buuta"},
    )
    assert dead.returncode == 2
    assert "cannot open the database" in dead.stderr
    assert "secret" not in dead.stderr
    assert "Traceback" not in dead.stderr
