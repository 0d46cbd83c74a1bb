"""The real buuta HTTP service for tests: re-exported from :mod:`harness.server`.

The machinery lives in ``harness/`` so the benchmarks run without pytest; tests keep importing
it from here.
"""

from harness.server import (
    ROOT,
    RunningServer,
    ServerError,
    add_user,
    create_tokens,
    free_port,
    serve,
    sqlite_url,
)

__all__ = [
    "ROOT",
    "RunningServer",
    "ServerError",
    "add_user",
    "create_tokens",
    "free_port",
    "serve",
    "sqlite_url",
]
