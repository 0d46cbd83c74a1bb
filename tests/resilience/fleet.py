"""The simulated fleet of offline phones: re-exported from :mod:`harness.fleet`.

The machinery lives in ``harness/`` so ``benchmarks/sync.py``, ``crash.py`` and ``load.py`` run
without pytest; the resilience tests keep importing it from here.
"""

from harness.fleet import (
    ACKED,
    CLOCK_ERROR_S,
    STEP_MIN,
    VN,
    Fleet,
    Journey,
    Outbox,
    Scan,
    SendStats,
    Verdict,
    make_fleet,
    make_outboxes,
    percentile,
    register_fleet,
    send_all,
    verify,
    verify_api,
    yesterday_vn,
)

__all__ = [
    "ACKED",
    "CLOCK_ERROR_S",
    "STEP_MIN",
    "VN",
    "Fleet",
    "Journey",
    "Outbox",
    "Scan",
    "SendStats",
    "Verdict",
    "make_fleet",
    "make_outboxes",
    "percentile",
    "register_fleet",
    "send_all",
    "verify",
    "verify_api",
    "yesterday_vn",
]
