"""The optional job field ``priority``: a ``high`` job is left out only as a last resort.

Two pickups both booked 09:00–09:10, one 10 minutes from ``po`` and one 40 minutes away in the
other direction (50 minutes apart), so one courier can serve only one: serving one from 09:00
to 09:10 reaches the other at 10:00 at the earliest. Equal in worth, the near one is served
(less riding); marked ``high``, the far one is.
"""

from __future__ import annotations

import pytest

from routing import RequestError, plan_request
from tests.routing.helpers import pickup, reasons, request, solve_checked

NEAR, FAR = 10.0, -40.0


def test_equal_jobs_serve_the_nearer() -> None:
    """Without priority the one 10 minutes away is served and the far one left out."""
    jobs = [pickup("A", ["09:00", "09:10"]), pickup("B", ["09:00", "09:10"])]
    plan = solve_checked(request(jobs, {"A": NEAR, "B": FAR}))
    assert set(reasons(plan)) == {"B"}


def test_a_high_priority_job_is_served_first() -> None:
    """Marked ``"priority": "high"``, the far one is served and the near one left out."""
    jobs = [pickup("A", ["09:00", "09:10"]), pickup("B", ["09:00", "09:10"], priority="high")]
    plan = solve_checked(request(jobs, {"A": NEAR, "B": FAR}))
    assert set(reasons(plan)) == {"A"}


def test_an_unknown_priority_names_the_field() -> None:
    """Only ``high`` and ``normal`` are priorities."""
    jobs = [pickup("A", ["09:00", "09:10"], priority="urgent")]
    with pytest.raises(RequestError, match=r"jobs\[0\]\.priority"):
        plan_request(request(jobs, {"A": NEAR}))
