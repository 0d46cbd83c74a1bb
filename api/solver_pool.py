"""Solver processes kept apart from the web server.

OR-Tools can abort the whole process on some inputs and a solve holds a core for its time
limit, so the service never solves in its own process. :class:`SolverPool` keeps a few warm
worker processes (``spawn``: no inherited threads or database connections); each solve runs in
one of them under a hard wall-clock limit. A worker that dies or overruns is killed and
replaced, and the caller gets :class:`SolverUnavailable` (answered 503), never a dead server.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import anyio
import anyio.to_thread

log = logging.getLogger("buuta.solver")

SOLVER_NICENESS = 10
"""How much lower than the server's the solver processes' CPU priority is (``nice``)."""


START_S = 300.0
"""How long a new solver process may take to import the solver, in seconds."""


class SolverUnavailable(RuntimeError):  # noqa: N818 (reads as the HTTP answer it becomes)
    """The solve could not finish: its worker crashed, overran its limit, or none was free."""


class SolveRejected(ValueError):  # noqa: N818
    """The solver refused the input (``routing.RequestError`` or another ``ValueError``, whose
    message names the field, raised inside the worker)."""


def _worker_main(conn: Connection) -> None:
    """Serve solve calls sent over ``conn`` until it closes (runs in the worker process)."""
    import routing  # noqa: PLC0415, F401 (import the solver once, in the worker only)

    # A solve may hold a core for its whole time limit: let the web server's requests (a
    # citizen's lookup, a courier's scans) go first when they compete for the CPU.
    with contextlib.suppress(OSError):
        os.nice(SOLVER_NICENESS)
    conn.send(("ready",))  # the pool starts a call's wall-clock limit only after this

    while True:
        try:
            call = conn.recv()
        except (EOFError, OSError):
            return
        fn, args, kwargs = call
        try:
            result = fn(*args, **kwargs)
        except ValueError as exc:  # routing.RequestError and geo's input errors
            conn.send(("rejected", str(exc)))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        else:
            conn.send(("ok", result))


class _Worker:
    def __init__(self, ctx: Any) -> None:
        parent, child = ctx.Pipe()
        self.conn: Connection = parent
        self.process: BaseProcess = ctx.Process(
            target=_worker_main, args=(child,), name="buuta-solver", daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait until the worker has imported the solver; return whether it did in time.

        Importing OR-Tools, PyVRP and numpy takes seconds, far more on a busy machine or with
        nothing cached yet: that time must not count against the first solve's limit.
        """
        if not self.ready:
            try:
                self.ready = self.conn.poll(timeout_s) and self.conn.recv() == ("ready",)
            except (EOFError, OSError):
                return False
        return self.ready

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class SolverPool:
    """A fixed number of solver processes with a hard wall-clock limit per call.

    Parameters
    ----------
    workers
        Number of worker processes (solves running at the same time); they start on the
        first call.
    wait_s
        How long a call waits for a free worker before :class:`SolverUnavailable`, in seconds.
    start_s
        How long a new worker may take to import the solver before :class:`SolverUnavailable`,
        in seconds; a call's ``wall_limit_s`` starts once its worker is ready.
    """

    def __init__(self, workers: int = 1, *, wait_s: float = 60.0, start_s: float = START_S) -> None:
        if workers < 1:
            msg = f"workers must be at least 1, got {workers}"
            raise ValueError(msg)
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._started = False
        self._workers = workers
        self._wait_s = wait_s
        self._start_s = start_s
        self._limiter: anyio.CapacityLimiter | None = None

    def _ensure_started(self) -> None:
        # Workers start on the first solve, so a server that only records scans never pays
        # for importing the solver.
        with self._lock:
            if self._started:
                return
            self._started = True
        for _ in range(self._workers):
            self._add_worker()

    def _add_worker(self) -> None:
        worker = _Worker(self._ctx)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            closed = self._closed
        if not closed:
            self._add_worker()

    def pids(self) -> list[int]:
        """Return the process ids of the live workers (for operators and tests)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        wall_limit_s: float,
        **kwargs: Any,
    ) -> Any:
        """Call ``fn(*args, **kwargs)`` in a worker and return its result.

        Parameters
        ----------
        fn
            A picklable module-level function.
        wall_limit_s
            Hard limit on the call's wall-clock time, in seconds; the worker is killed after it.

        Raises
        ------
        SolveRejected
            If the solver rejected the input (its message names the field).
        SolverUnavailable
            If no worker was free in time, the worker died, overran or failed unexpectedly.
        """
        if self._closed:
            msg = "the solver is shutting down"
            raise SolverUnavailable(msg)
        self._ensure_started()
        deadline = time.monotonic() + self._wait_s
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                msg = f"every solver is busy; try again in a minute (waited {self._wait_s:g} s)"
                raise SolverUnavailable(msg) from None
            if worker.process.is_alive():
                break
            # died while idle (killed by an operator or the kernel): replace it, take the next
            log.warning("solver process %s died while idle; replacing it", worker.process.pid)
            self._retire(worker)
        if not worker.wait_ready(self._start_s):
            self._retire(worker)
            msg = f"the solver process exited or took over {self._start_s:g} s to start"
            raise SolverUnavailable(msg)
        started = time.monotonic()
        try:
            worker.conn.send((fn, args, kwargs))
            if not worker.conn.poll(wall_limit_s):
                self._retire(worker)
                msg = f"the solve did not finish within {wall_limit_s:g} s and was stopped"
                raise SolverUnavailable(msg)
            answer = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = worker.process.exitcode
            self._retire(worker)
            log.error(
                "solver process died (exit code %s) after %.1f s", code, time.monotonic() - started
            )
            msg = "the solver process stopped unexpectedly; the request was not planned"
            raise SolverUnavailable(msg) from None
        self._idle.put(worker)
        kind = answer[0]
        if kind == "ok":
            return answer[1]
        if kind == "rejected":
            raise SolveRejected(answer[1])
        log.error("solver failed: %s\n%s", answer[1], answer[2])
        msg = "the solver failed on this request; the error was logged"
        raise SolverUnavailable(msg)

    async def solve(
        self,
        fn: Callable[..., Any],
        *args: Any,
        wall_limit_s: float,
        **kwargs: Any,
    ) -> Any:
        """Like :meth:`run`, awaited from the event loop.

        The wait runs in a thread of the pool's own limiter (a few more than the workers), so
        solves waiting for a worker never take the threads that serve scans and reads.
        """
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._workers + 4)
        call = functools.partial(self.run, fn, *args, wall_limit_s=wall_limit_s, **kwargs)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()
