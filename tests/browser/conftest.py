"""A real buuta server with a small planned and partly-lived day, and a headless Chromium.

The day is the tiny hand-made request of ``tests/maps`` moved to *yesterday* (Vietnam time), so
every scan and position lies in the past whatever the clock says: it is planned through
``POST /v1/plans`` (OR-Tools, 2 s), courier c1 scans J1 as collected and handed over and
reports three positions, all through the HTTP API as a phone would.

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright (never a downloaded browser).
Every request to anything but the test server is blocked and recorded, console errors are
recorded, and a screenshot of each page is kept under ``test-artifacts/browser/``.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import Session

import tracking
from harness.browser import CHROMIUM, CHROMIUM_ARGS
from tests.maps.conftest import REQUEST
from tests.support.server import RunningServer, serve, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
VN = timezone(timedelta(hours=7))


@dataclass
class Day:
    """The served day: server, tokens, the stored plan and its request."""

    server: RunningServer
    tokens: dict[str, str]
    date: str
    plan: dict[str, Any]
    request: dict[str, Any]
    active: str
    """The courier that serves J1 and has scanned it and reported positions."""
    handed_over: tuple[str, ...]
    """The jobs of J1's hand-off stop, each scanned as collected and at the hub."""

    @property
    def base_url(self) -> str:
        """The server's base URL."""
        return self.server.base_url


def _yesterday_request() -> tuple[str, dict[str, Any]]:
    day = (datetime.now(VN) - timedelta(days=1)).date().isoformat()
    request = copy.deepcopy(REQUEST)
    request["date"] = day
    # 20 solutions: the same plan on any machine (re-plans from the page still search for 2 s).
    request["options"] = {"time_limit_s": 2, "solution_limit": 20}
    return day, request


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    """A server on a SQLite file with users d1 (dispatcher), s1 (staff), c1/c2 (couriers), a1
    (admin), a stored plan of yesterday, the scans of J1 (and of the pickups handed over with
    it) by its courier and three of its positions.

    One day per test module: the staff pages' tests tick manifests and so add scans, which the
    journey map of another module counts, whatever order the modules run in."""
    directory = tmp_path_factory.mktemp("browser-db")
    url = sqlite_url(directory)
    with serve(url, env={"BUUTA_SOLVE_TIME_LIMIT_S": "2"}) as server:
        tokens = {}
        engine = tracking.make_engine(url)
        with Session(engine) as session:
            for name, role in (("d1", "dispatcher"), ("s1", "staff"), ("c1", "courier"),
                               ("c2", "courier"), ("a1", "admin")):  # fmt: skip
                _, tokens[name] = tracking.create_user(session=session, name=name, role=role)
            session.commit()
        engine.dispose()
        date, request = _yesterday_request()
        client = httpx.Client(base_url=server.base_url, timeout=60)
        answer = client.post(
            "/v1/plans", json=request, headers={"Authorization": f"Bearer {tokens['d1']}"}
        )
        assert answer.status_code == 201, answer.text
        plan = answer.json()
        job_courier = {
            s["job"]: r["courier"] for r in plan["routes"] for s in r["stops"] if s.get("job")
        }
        active = job_courier["J1"]
        c1 = {"Authorization": f"Bearer {tokens[active]}"}
        at = f"{date}T{{}}:00+07:00"
        # The solver may hand J1 over together with other pickups of its courier: scan every
        # dossier of that hand-off, so the hand-off stop is done whatever the grouping.
        handoff = next(
            s
            for r in plan["routes"]
            for s in r["stops"]
            if s["type"] == "handoff" and "J1" in s["jobs"]
        )
        jobs = {j["id"]: j for j in request["jobs"]}
        collected = [
            {"event_id": str(uuid.uuid4()), "dossier": jobs[job]["dossier"],
             "type": "collected", "at": at.format(f"08:0{i}"), "lat": jobs[job]["lat"],
             "lon": jobs[job]["lon"], "job": job, "proof": {"photo_sha256": "ab12"}}
            for i, job in enumerate(handoff["jobs"], start=5)
        ]  # fmt: skip
        at_hub = [
            {"event_id": str(uuid.uuid4()), "dossier": jobs[job]["dossier"],
             "type": "at_hub", "at": at.format("08:30"), "site": handoff["site"], "job": job}
            for job in handoff["jobs"]
        ]  # fmt: skip
        scans = collected + at_hub
        answer = client.post("/v1/scans", json=scans, headers=c1)
        assert answer.status_code == 200, answer.text
        assert [r["status"] for r in answer.json()["results"]] == ["stored"] * len(scans)
        positions = [
            {"at": at.format("08:02"), "lat": 9.05, "lon": 104.98},
            {"at": at.format("08:20"), "lat": 9.07, "lon": 104.975},
            {"at": at.format("08:31"), "lat": 9.0806, "lon": 104.9744},
        ]
        answer = client.post(f"/v1/couriers/{active}/positions", json=positions, headers=c1)
        assert answer.status_code == 201, answer.text
        client.close()
        yield Day(
            server=server,
            tokens=tokens,
            date=date,
            plan=plan,
            request=request,
            active=active,
            handed_over=tuple(handoff["jobs"]),
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright, for the whole session."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What a page did that a test must check: requests leaving the server, console errors."""

    host: str
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No request left localhost and the console logged no error."""
        assert self.blocked == [], f"requests to the internet: {self.blocked}"
        assert self.errors == [], f"console errors: {self.errors}"


def open_context(
    browser: Any,
    day: Day,
    user: str | None,
    *,
    phone: bool = False,
    service_workers: str = "block",
    locale: str = "vi-VN",
) -> tuple[Any, Watch]:
    """A fresh browser context logged in as ``user`` (cookie), with the network fenced in.

    The browser is set up as a Vietnamese user's (``locale``: its ``Accept-Language`` and the
    language of its own controls), unless a test asks for another.
    """
    options: dict[str, Any] = {"service_workers": service_workers, "locale": locale}
    if phone:
        options.update(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
    else:
        options["viewport"] = {"width": 1280, "height": 800}
    context = browser.new_context(**options)
    watch = Watch(host=urlsplit(day.base_url).hostname or "127.0.0.1")

    def fence(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host in {watch.host, "localhost"}:
            route.continue_()
        else:
            watch.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", fence)
    if user is not None:
        context.add_cookies(
            [{"name": "buuta_token", "value": day.tokens[user], "url": day.base_url}]
        )
    return context, watch


def watch_page(context: Any, watch: Watch) -> Any:
    """A new page whose console errors and uncaught exceptions go to ``watch``."""
    page = context.new_page()
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(f"uncaught: {e}"))
    return page


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artefact and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
