"""Solves through a task queue on PostgreSQL, so that solver workers can run on other machines.

With the embedded default (SQLite) every solve runs in the server's own local process pool
(:class:`api.solver_pool.SolverPool`) and no other service is needed. In production, with
PostgreSQL and ``BUUTA_SOLVER_QUEUE=true``, the HTTP servers put each solve on a queue kept in
the same PostgreSQL database (procrastinate), and ``buuta worker`` processes, on this machine or
on others that reach the database, take solves off it, one per worker slot. A province's
districts posted at the same time are then planned in parallel by as many workers as run.

The answer travels back through a small table, ``buuta_solve_results`` (ticket → outcome and
plan), that the waiting server reads; the request that asked keeps its shape, so
:class:`QueueSolver` is a drop-in for the local pool: ``run(fn, *args, wall_limit_s, **kwargs)``.

Only the optimizer's entry points listed in :data:`FUNCTIONS` travel over the queue, by name;
their arguments must be JSON, and citizens' personal data (which the optimizer ignores) is
removed before a request goes on the queue. The travel model is the worker's own (its
``BUUTA_TRAVEL``), since a road engine is reached from where the solve runs.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import procrastinate
import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from api.solver_pool import SolveRejected, SolverPool, SolverUnavailable
from tracking.plans import public_request

log = logging.getLogger("buuta.queue")

QUEUE = "solve"
"""The procrastinate queue solves go on."""

TASK = "buuta.solve"
"""The name of the solve task."""

FUNCTIONS = ("plan_request", "replan")
"""The optimizer's entry points that may be called through the queue (``routing.<name>``)."""

RESULTS_DDL = """
CREATE TABLE IF NOT EXISTS buuta_solve_results (
    ticket text PRIMARY KEY,
    outcome text NOT NULL,
    payload jsonb,
    finished_at timestamptz NOT NULL DEFAULT now()
)
"""

_SCHEMA_LOCK = 0x62757574  # "buut": one process at a time installs the queue's tables


def conninfo(database_url: str) -> str:
    """Return the libpq connection string of a ``postgresql+psycopg://`` SQLAlchemy URL.

    Raises
    ------
    ValueError
        If the URL is not a PostgreSQL URL (the queue lives in PostgreSQL only).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        msg = (
            "the solve queue lives in PostgreSQL: set BUUTA_DATABASE_URL="
            f"postgresql+psycopg://..., not a {url.get_backend_name()!r} database"
        )
        raise ValueError(msg)
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def install(database_url: str) -> None:
    """Create the queue's tables (procrastinate's schema and the results table) if missing.

    Safe to call from every server and worker at start: a PostgreSQL advisory lock lets one
    process install at a time, and an installed schema is left as it is.
    """
    info = conninfo(database_url)
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if row is None or row[0] is None:
                app = queue_app(database_url)
                app.open()
                try:
                    app.schema_manager.apply_schema()
                finally:
                    app.close()
            conn.execute(RESULTS_DDL)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


def queue_app(database_url: str) -> procrastinate.App:
    """Return a procrastinate app on the database, with the solve task declared (not run).

    The HTTP servers defer solves with it; :mod:`api.worker` runs them.
    """
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
    )
    app.task(name=TASK, queue=QUEUE)(_declared_task)
    return app


def _declared_task(**_kwargs: Any) -> None:  # pragma: no cover (the worker replaces it)
    msg = "solves run in `buuta worker`, not in the HTTP server"
    raise RuntimeError(msg)


def record_result(info: str, ticket: str, outcome: str, payload: Any) -> None:
    """Store the outcome of a solve for the server waiting on ``ticket`` (used by workers).

    Parameters
    ----------
    info
        libpq connection string.
    ticket
        The ticket the server chose.
    outcome
        ``ok`` (payload: the plan), ``rejected`` (payload: the message naming the field) or
        ``unavailable`` (payload: why the solve could not finish).
    payload
        JSON-serialisable.
    """
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO buuta_solve_results (ticket, outcome, payload) VALUES (%s, %s, %s) "
            "ON CONFLICT (ticket) DO NOTHING",
            (ticket, outcome, Jsonb(payload)),
        )


def _without_personal_data(value: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(value.get("jobs"), list):
        return public_request(value)
    return value


class QueueSolver(SolverPool):
    """Solves by ``buuta worker`` processes fed through the PostgreSQL task queue.

    A drop-in for the local :class:`~api.solver_pool.SolverPool` in the HTTP server: the same
    :meth:`run` call, the same errors.

    Parameters
    ----------
    database_url
        The service's PostgreSQL URL (``postgresql+psycopg://...``).
    wait_s
        How long a solve may wait on the queue for a free worker, in seconds, on top of its
        wall-clock limit; then :class:`~api.solver_pool.SolverUnavailable`.
    poll_s
        How often the waiting server looks for the answer, in seconds.
    """

    def __init__(self, database_url: str, *, wait_s: float = 60.0, poll_s: float = 0.1) -> None:
        super().__init__(1, wait_s=wait_s)
        self._info = conninfo(database_url)
        install(database_url)
        self._app = queue_app(database_url)
        self._app.open()
        self._queue_wait_s = wait_s
        self._poll_s = poll_s

    def pids(self) -> list[int]:
        """Return no process ids: the solver processes live in the workers."""
        return []

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        wall_limit_s: float,
        **kwargs: Any,
    ) -> Any:
        """Put ``fn(*args, **kwargs)`` on the queue and wait for a worker's answer.

        Raises
        ------
        SolveRejected
            If the solver refused the input (its message names the field).
        SolverUnavailable
            If no worker answered in time, the solve crashed or overran in the worker, or
            ``fn`` may not travel over the queue.
        """
        name = getattr(fn, "__name__", "")
        if getattr(fn, "__module__", "").split(".")[0] != "routing" or name not in FUNCTIONS:
            msg = f"{name or fn!r} cannot run on the solve queue"
            raise SolverUnavailable(msg)
        kwargs.pop("travel", None)  # the worker uses its own travel model
        # The optimizer never reads citizens' personal data: keep it off the queue's tables
        # and out of the workers' logs.
        args = tuple(_without_personal_data(a) for a in args)
        try:
            json.dumps([args, kwargs])
        except (TypeError, ValueError) as exc:
            msg = f"the solve's arguments are not JSON ({exc})"
            raise SolverUnavailable(msg) from None
        ticket = uuid.uuid4().hex
        job_id = self._app.configure_task(TASK).defer(
            ticket=ticket,
            function=name,
            args=list(args),
            kwargs=kwargs,
            wall_limit_s=wall_limit_s,
        )
        deadline = time.monotonic() + wall_limit_s + self._queue_wait_s
        with psycopg.connect(self._info, autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "DELETE FROM buuta_solve_results WHERE ticket = %s RETURNING outcome, payload",
                    (ticket,),
                ).fetchone()
                if row is not None:
                    break
                if time.monotonic() > deadline:
                    self._cancel(job_id)
                    msg = (
                        "no solver worker answered in time; check that `buuta worker` runs "
                        "and reaches the database"
                    )
                    raise SolverUnavailable(msg)
                time.sleep(self._poll_s)
        outcome, payload = str(row[0]), row[1]
        if outcome == "ok":
            return payload
        if outcome == "rejected":
            raise SolveRejected(str(payload))
        raise SolverUnavailable(str(payload))

    def _cancel(self, job_id: int) -> None:
        try:
            self._app.job_manager.cancel_job_by_id(job_id, abort=True)
        except Exception:  # the job may have finished meanwhile: nothing to cancel
            log.warning("could not cancel solve job %s", job_id)

    def close(self) -> None:
        """Close the queue connection."""
        super().close()
        self._app.close()
