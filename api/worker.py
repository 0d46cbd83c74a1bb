"""``buuta worker``: take solves off the PostgreSQL task queue and run them (see :mod:`api.queue`).

Run as many workers as there are cores to spare, on any machine that reaches the database::

    BUUTA_DATABASE_URL=postgresql+psycopg://buuta@db/buuta buuta worker --concurrency 2

Each worker slot runs its solve in a solver process of its own (the same
:class:`~api.solver_pool.SolverPool` the server uses locally), under the solve's hard
wall-clock limit, so a crash or an endless solve costs one answer (503), never the worker. The
worker stops cleanly on SIGINT/SIGTERM after the solves in hand.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import procrastinate

import routing
from api.planning import travel_model
from api.queue import FUNCTIONS, QUEUE, TASK, conninfo, install, queue_app, record_result
from api.settings import Settings
from api.solver_pool import SolveRejected, SolverPool, SolverUnavailable

log = logging.getLogger("buuta.worker")


def build_worker_app(settings: Settings, pool: SolverPool) -> procrastinate.App:
    """Return the procrastinate app whose solve task runs in ``pool``.

    Parameters
    ----------
    settings
        The worker's settings: the database (PostgreSQL) and the travel model.
    pool
        Solver processes, one per worker slot.
    """
    url = settings.resolved_database_url()
    info = conninfo(url)
    app = queue_app(url)

    def solve(
        *,
        ticket: str,
        function: str,
        args: list[Any],
        kwargs: dict[str, Any],
        wall_limit_s: float,
    ) -> None:
        if function not in FUNCTIONS:
            record_result(info, ticket, "unavailable", f"unknown solver function {function!r}")
            return
        fn = getattr(routing, function)
        if function == "plan_request":
            kwargs = {**kwargs, "travel": travel_model(settings)}
        started_s = time.monotonic()
        try:
            plan = pool.run(fn, *args, wall_limit_s=wall_limit_s, **kwargs)
        except SolveRejected as exc:
            record_result(info, ticket, "rejected", str(exc))
        except SolverUnavailable as exc:
            record_result(info, ticket, "unavailable", str(exc))
        else:
            record_result(info, ticket, "ok", plan)
            log.info("solved %s (%s) in %.1f s", ticket, function, time.monotonic() - started_s)

    # Replace the declared task with the real one under the same name and queue.
    app.tasks.pop(TASK, None)
    app.task(name=TASK, queue=QUEUE)(solve)
    return app


def run_worker(settings: Settings, *, concurrency: int = 1) -> None:
    """Install the queue's tables if needed and serve solves until stopped.

    Parameters
    ----------
    settings
        Where the queue is (``BUUTA_DATABASE_URL``, PostgreSQL) and the travel model.
    concurrency
        Solves this worker runs at the same time (one solver process each).

    Raises
    ------
    ValueError
        If the database is not PostgreSQL.
    """
    url = settings.resolved_database_url()
    # procrastinate logs every job's arguments at INFO: whole plan requests. Keep warnings.
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    install(url)
    pool = SolverPool(concurrency, wait_s=3600)
    try:
        app = build_worker_app(settings, pool)
        log.info("buuta worker: %d slot(s) on queue %r", concurrency, QUEUE)
        app.run_worker(queues=[QUEUE], concurrency=concurrency, wait=True)
    finally:
        pool.close()
