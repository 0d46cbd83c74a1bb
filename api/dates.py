"""Sane dates and times at the API's edge.

Python's datetimes end at years 1 and 9999, so ``0001-01-01T00:00:00+14:00`` or
``9999-12-31T23:59:59-12:00`` cannot even be written in UTC, and a plan dated 9999-12-31 has no
next day. Such values are refused where they enter (422 naming the field) instead of failing
deep inside:

- a device or dispatcher time (:data:`SaneDatetime`) must lie in :data:`EARLIEST` …
  :data:`LATEST` (a phone whose clock was reset to 1970 still syncs; its scans are judged by the
  life cycle as before);
- a plan's date (:func:`check_plan_date`) must lie within :data:`PLAN_DAYS` days of today in
  Vietnam. ``routing`` does not read the clock; this check is the API's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

from routing.clock import local_now
from tracking.errors import InvalidInput

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

PLAN_DAYS = 366
"""A plan's date may be at most this many days before or after today (Vietnam)."""


def _in_calendar(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        msg = "the time lies beyond the calendar in UTC"
        raise ValueError(msg) from None
    if not EARLIEST <= moment < LATEST:
        msg = f"the time must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)"
        raise ValueError(msg)
    return value


SaneDatetime = Annotated[AwareDatetime, AfterValidator(_in_calendar)]
"""An ISO 8601 time with an offset, between 1970 and 2200 in UTC."""


def check_plan_date(value: str, *, where: str = "date", today: date | None = None) -> None:
    """Refuse a plan date more than :data:`PLAN_DAYS` days from today (Vietnam).

    Raises
    ------
    InvalidInput
        If ``value`` is not a calendar date, or lies too far from today; the message names
        ``where`` and the allowed range.
    """
    today = local_now().date() if today is None else today
    try:
        day = date.fromisoformat(value)
    except ValueError:
        msg = f"{where}: not a calendar date (YYYY-MM-DD)"
        raise InvalidInput(msg) from None
    first, last = today - timedelta(days=PLAN_DAYS), today + timedelta(days=PLAN_DAYS)
    if not first <= day <= last:
        msg = f"{where}: a plan's date must lie between {first} and {last} (a year from today)"
        raise InvalidInput(msg)
