"""The ``buuta`` command: plan a day, serve the API, manage users, run the demo.

::

    buuta plan REQUEST.json [-o PLAN.json] [--time-limit S] [--check]
    buuta serve [--host H] [--port P]
    buuta user add NAME --role ROLE
    buuta demo [--jobs N] [--out DIR]
    buuta worker [--concurrency N]
    buuta messages --gateway URL [--interval S] [--once]
    buuta carry-over [--date YYYY-MM-DD]

Exit codes: 0 done, 2 bad input (an unreadable file, an invalid request, an unknown role),
1 anything else. Messages go to stderr and say what is wrong; no traceback for bad input.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from api.settings import Settings

if TYPE_CHECKING:
    from routing.plan import Plan

app = typer.Typer(
    name="buuta",
    help="Plan couriers' routes and track administrative dossiers (Cà Mau postal service).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage API users and their tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")

EXIT_BAD_INPUT = 2


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    typer.echo(f"buuta: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        _fail(f"bad BUUTA_* setting: {exc}")


def read_request(path: Path) -> dict[str, Any]:
    """Read a plan request from a JSON file.

    Raises
    ------
    ValueError
        If the file cannot be read, is not JSON, or is not a JSON object; the message names
        the file (and the line and column of a JSON error).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: no such file"
        raise ValueError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read the file ({exc})"
        raise ValueError(msg) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise ValueError(msg) from None
    if not isinstance(data, dict):
        msg = f"{path}: a plan request must be a JSON object, got {type(data).__name__}"
        raise ValueError(msg)
    return data


def _solve_day(
    request: dict[str, Any], request_file: Path, limit: float, settings: Settings
) -> Plan:
    """Validate the request once, here at the edge, and plan it, showing the search's progress.

    Every failure ends the command with one line naming the file (exit 2), or saying that the
    optimizer failed (exit 1), never a traceback.
    """
    import routing  # noqa: PLC0415 (keep `buuta --help` fast)
    from api.planning import ProgressLine, district_workers, travel_model  # noqa: PLC0415
    from routing.request import parse_request  # noqa: PLC0415

    progress = ProgressLine()
    try:
        req = parse_request(request, time_limit_s=limit)
        req = dataclasses.replace(req, workers=district_workers(request, settings) or req.workers)
        return routing.plan_day(req, travel=travel_model(settings), on_progress=progress)
    except routing.RequestError as exc:
        _fail(f"{request_file}: invalid plan request: {exc}")
    except ValueError as exc:
        _fail(f"{request_file}: {exc}")
    except Exception as exc:  # an optimizer bug: say so in one line, not a traceback
        _fail(f"the optimizer failed unexpectedly ({type(exc).__name__}: {exc})", code=1)
    finally:
        progress.done()


@app.command()
def plan(
    request_file: Annotated[Path, typer.Argument(help="Plan request JSON (DESIGN §4).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the plan here, not to stdout.")
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", min=0.1, help="Search time limit in seconds."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Check the plan with the independent plan checker; exit 1 if broken."
        ),
    ] = False,
) -> None:
    """Plan a day's routes from REQUEST_FILE and print the plan (JSON) and a summary."""
    from api.planning import (  # noqa: PLC0415 (keep `buuta --help` fast)
        geocode_jobs,
        geocoder,
        summary_lines,
        time_limit_s,
        travel_model,
    )

    settings = _settings()
    try:
        request = read_request(request_file)
        placed = geocode_jobs(request, geocoder(settings))
    except ValueError as exc:
        _fail(f"{request_file}: {exc}" if "jobs[" in str(exc) else str(exc))
    if placed:
        typer.echo(f"placed {placed} job(s) by address (ward or district point)", err=True)
    limit = time_limit_s(request, settings, time_limit)
    typer.echo(f"planning {request_file} (time limit {limit:g} s)", err=True)
    plan = _solve_day(request, request_file, limit, settings)
    result = plan.to_json()
    text = json.dumps(result, ensure_ascii=False, indent=2)
    lines = summary_lines(plan)
    broken = 0
    if check:
        from routing.checker import check_plan  # noqa: PLC0415

        violations = check_plan(request, result, travel=travel_model(settings))
        broken = len(violations)
        lines.append(f"checker: {broken} broken promise(s)")
        lines += [f"  {v.code}: {v.detail}" for v in violations[:20]]
    summary = "\n".join(lines)
    if output is None:
        typer.echo(text)
        typer.echo(summary, err=True)
    else:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            _fail(f"{output}: cannot write the plan ({exc})")
        typer.echo(summary)
        typer.echo(f"plan written to {output}")
    if broken:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the HTTP API (upgrades an empty database to the current schema first)."""
    import uvicorn  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415

    settings = _settings()
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    url = settings.resolved_database_url()
    _open_database(url)
    typer.echo(f"buuta serving on http://{host}:{port} (database: {_redact(url)})", err=True)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # access logs would carry tracking codes and phone digits
        # uvicorn would believe X-Forwarded-For from loopback; buuta decides whom to believe
        # (BUUTA_TRUSTED_PROXIES, api/ratelimit.py), so the peer stays the connection's.
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


def _open_database(url: str) -> None:
    """Open and upgrade the database once before serving, or exit 2 saying why it cannot."""
    import sqlalchemy as sa  # noqa: PLC0415

    from tracking.db import make_engine, upgrade  # noqa: PLC0415

    try:
        engine = make_engine(url)
    except ValueError as exc:
        _fail(str(exc))
    try:
        upgrade(engine)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _fail(f"cannot open the database {_redact(url)}: {reason}")
    finally:
        engine.dispose()


def _redact(url: str) -> str:
    """Hide a password in a database URL."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name; a courier's name is its courier id.")],
    role: Annotated[str, typer.Option("--role", help="admin, dispatcher, courier or staff.")],
) -> None:
    """Create a user and print its API token (shown once) as the last word."""
    from sqlmodel import Session  # noqa: PLC0415

    from api.deps import ROLES  # noqa: PLC0415
    from tracking.db import make_engine, upgrade, write_lock  # noqa: PLC0415
    from tracking.users import create_user  # noqa: PLC0415

    if role not in ROLES:
        _fail(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if not name.strip():
        _fail("the user name must not be empty")
    settings = _settings()
    try:
        engine = make_engine(settings.resolved_database_url())
        upgrade(engine)
        with write_lock(engine), Session(engine) as session:
            _user, token = create_user(session=session, name=name.strip(), role=role)
            session.commit()
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(f"created {role} user {name.strip()}; API token (shown once, keep it safe): {token}")


@app.command()
def demo(
    jobs: Annotated[int, typer.Option(min=1, max=2000, help="Jobs in the sample day.")] = 60,
    out: Annotated[Path, typer.Option(help="Directory for the demo database and maps.")] = Path(
        "out/demo"
    ),
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.5)] = 10.0,
    until: Annotated[
        str, typer.Option(help="Simulate the couriers' scans up to this local time (HH:MM).")
    ] = "15:00",
    seed: Annotated[int, typer.Option(help="Seed of the sample day.")] = 0,
) -> None:
    """Plan a sample Cà Mau day, simulate the scans, write maps, show where dossiers are."""
    from api.demo import run_demo  # noqa: PLC0415

    try:
        run_demo(jobs=jobs, out=out, time_limit_s=time_limit, until=until, seed=seed)
    except ValueError as exc:
        _fail(str(exc))


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Solves this worker runs at the same time.")
    ] = 1,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Solve plans taken off the PostgreSQL task queue (servers with BUUTA_SOLVER_QUEUE=true)."""
    from api.worker import run_worker  # noqa: PLC0415

    settings = _settings()
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    url = settings.resolved_database_url()
    typer.echo(f"buuta worker: {concurrency} slot(s) on {_redact(url)}", err=True)
    try:
        run_worker(settings, concurrency=concurrency)
    except ValueError as exc:
        _fail(str(exc))


@app.command()
def messages(
    gateway: Annotated[str, typer.Option(help="URL of the SMS/Zalo HTTP gateway (POST JSON).")],
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between rounds.")] = 10.0,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Messages sent at once.")] = 8,
    once: Annotated[bool, typer.Option(help="Run one round and stop.")] = False,
) -> None:
    """Send citizens' messages (result ready, courier on the way, delivered, failed).

    The gateway's token, if it needs one, is read from BUUTA_MESSAGE_GATEWAY_TOKEN.
    """
    import os  # noqa: PLC0415

    from api.messages import run_messages  # noqa: PLC0415
    from tracking.outbox import HttpGateway  # noqa: PLC0415

    if not gateway.startswith(("http://", "https://")):
        _fail(f"--gateway: expected an http(s) URL, got {gateway!r}")
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sender = HttpGateway(gateway, token=os.environ.get("BUUTA_MESSAGE_GATEWAY_TOKEN"))
    totals = run_messages(
        _settings(), gateway=sender, interval_s=interval, workers=workers, once=once
    )
    typer.echo(f"buuta messages: {totals}", err=True)


@app.command("carry-over")
def carry_over(
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="The last day to close, YYYY-MM-DD (default: the last day whose work has "
            "ended: today after 17:30 in Vietnam, else yesterday).",
        ),
    ] = None,
) -> None:
    """Move the requests not done by the end of their day to the next working day.

    Requests of the day (and of earlier days) still open, or planned and not done, become
    "carried" and continue as open requests of the next working day, keeping their due dates;
    planned requests the scans show done become "done". Running it twice changes nothing more.
    """
    from datetime import date as calendar_date  # noqa: PLC0415
    from datetime import datetime  # noqa: PLC0415

    from sqlmodel import Session  # noqa: PLC0415

    from routing.clock import LOCAL_TZ  # noqa: PLC0415
    from tracking.carry_over import carry_over as close_days  # noqa: PLC0415
    from tracking.carry_over import last_ended_day  # noqa: PLC0415
    from tracking.db import make_engine, upgrade  # noqa: PLC0415

    now = datetime.now(LOCAL_TZ)
    try:
        through = calendar_date.fromisoformat(date) if date else last_ended_day(now)
    except ValueError:
        _fail("--date: expected a date as YYYY-MM-DD")
    settings = _settings()
    try:
        engine = make_engine(settings.resolved_database_url())
        upgrade(engine)
        with Session(engine) as session:
            result = close_days(session=session, through=through, today=now.date())
    except ValueError as exc:
        _fail(str(exc))
    for old, new in result.carried:
        typer.echo(f"carried {old} -> {new}")
    counts = result.counts()
    typer.echo(
        f"closed {result.through}: {counts['carried']} carried, {counts['done']} done, "
        f"{counts['failed']} failed"
    )


def main() -> None:
    """Run the ``buuta`` command."""
    app(prog_name="buuta")
