"""``buuta messages --once`` sends the outbox through a gateway the test starts."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

import tracking
from harness.receiver import receiving
from tests.cli.test_cli import buuta
from tests.support.server import sqlite_url
from tests.tracking import helpers
from tracking.models import utcnow


def test_messages_once_sends_a_result_ready_message(tmp_path: Path) -> None:
    """A result marked ready is texted to its citizen's phone, once, with no personal data."""
    url = sqlite_url(tmp_path)
    engine = tracking.make_engine(url)
    tracking.upgrade(engine)
    with Session(engine) as session:
        staff, _ = tracking.create_user(session=session, name="staff", role="staff")
        request, plan = helpers.request(), helpers.plan()
        tracking.store_plan(session=session, request=request, plan=plan, created_by="d")
        now = utcnow()
        event = tracking.ScanInput("e-1", "D2", "result_ready", now, site="po-tvt")
        assert tracking.ingest_scans(session=session, events=[event], actor=staff)[0].status == (
            "stored"
        )
    engine.dispose()
    with receiving() as gateway:
        first = buuta("messages", "--gateway", gateway.url, "--once",
                      env={"BUUTA_DATABASE_URL": url})  # fmt: skip
        again = buuta("messages", "--gateway", gateway.url, "--once",
                      env={"BUUTA_DATABASE_URL": url})  # fmt: skip
    assert first.returncode == 0 and again.returncode == 0, first.stderr
    bodies = gateway.delivered()
    assert [b["to"] for b in bodies] == [helpers.CITIZEN_2["phone"]]
    assert "D2" in bodies[0]["text"] and helpers.CITIZEN_2["name"] not in bodies[0]["text"]


def test_messages_refuses_a_gateway_that_is_not_a_url() -> None:
    """A gateway that is not an http(s) URL is a bad-input exit naming the option."""
    answer = buuta("messages", "--gateway", "sms.example", "--once")
    assert answer.returncode == 2 and "--gateway" in answer.stderr
