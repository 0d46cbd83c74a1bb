"""Stand-in solver children that misbehave, to prove the fuzzing counts what they do."""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection


def die_on_first_request(conn: Connection) -> None:
    """Announce readiness, then end the process abruptly (as a native crash would)."""
    conn.send(("ready", None, 0.0))
    conn.recv()
    os._exit(3)


def hang_on_first_request(conn: Connection) -> None:
    """Announce readiness, then never answer."""
    conn.send(("ready", None, 0.0))
    conn.recv()
    time.sleep(120)


def raise_on_first_request(conn: Connection) -> None:
    """Answer like the real loop does when the optimizer raises something other than its error."""
    conn.send(("ready", None, 0.0))
    conn.recv()
    conn.send(("raised", "IndexError: list index out of range", 0.01))
    conn.recv()
