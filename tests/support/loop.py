"""Run a test's coroutine on an event loop of its own, whatever else the session runs.

The browser tests keep Playwright's synchronous API open for the whole session, and it keeps an
event loop running in the main thread; ``asyncio.run`` refuses to start there. A worker thread
has no running loop, so a coroutine run through :func:`run_alone` works in any test order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_alone(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to the end on a new event loop in a worker thread; return its result
    (or raise its exception)."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()
