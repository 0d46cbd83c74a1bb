"""Local time of a plan and the times written in plans, in one place.

A plan covers one day in Vietnam (UTC+07:00 all year, no daylight saving time). The optimizer
counts integer seconds since the plan day's local midnight; plans carry ISO 8601 times with
their offset (``2026-11-23T08:05:00+07:00``, DESIGN §4). Every module of buuta that needs the
zone, or turns plan times into datetimes and back, uses these helpers. The independent checker
(:mod:`routing.checker`) keeps its own on purpose: it shares no code with the optimizer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

LOCAL_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
"""Vietnam's time zone: UTC+07:00 all year, no daylight saving."""

DAY_S = 86_400
"""Seconds in a day."""


def local_midnight(day: date) -> datetime:
    """Return the start of ``day`` in Vietnam as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)


def local_day_bounds(day: str) -> tuple[datetime, datetime]:
    """Return the start and end of a ``YYYY-MM-DD`` day in Vietnam, as aware datetimes.

    At the ends of the calendar (a day stored before plan dates were limited) a bound that
    cannot be written as a datetime in UTC is the first or last datetime there is, so that
    reads of such a day answer instead of failing.

    Raises
    ------
    ValueError
        If ``day`` is not a ``YYYY-MM-DD`` date.
    """
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=LOCAL_TZ)
    try:
        start.astimezone(UTC)
    except OverflowError:
        start = datetime.min.replace(tzinfo=UTC)
    try:
        end = start + timedelta(days=1)
        end.astimezone(UTC)
    except OverflowError:
        end = datetime.max.replace(tzinfo=UTC)
    return start, end


def local_now() -> datetime:
    """Return the current time in Vietnam."""
    return datetime.now(LOCAL_TZ)


def at_seconds(day: date, seconds: int) -> datetime:
    """Return the time ``seconds`` after the day's local midnight (the optimizer's clock)."""
    return local_midnight(day) + timedelta(seconds=int(seconds))


def iso(day: date, seconds: int) -> str:
    """Format seconds since the day's local midnight as ISO 8601 with ``+07:00``."""
    return at_seconds(day, seconds).isoformat()


def hhmm(seconds: int) -> str:
    """Format seconds since midnight as ``HH:MM`` (``(+1d)`` when on the next day)."""
    days, rest = divmod(int(seconds), DAY_S)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return text + (f" (+{days}d)" if days else "")


def local_iso(value: datetime | None) -> str | None:
    """Return a time as ISO 8601 in Vietnam's time zone (``…+07:00``), or ``None``."""
    return None if value is None else value.astimezone(LOCAL_TZ).isoformat()


def local_hhmm(value: datetime) -> str:
    """Return ``HH:MM`` of a time as read on a clock in Vietnam."""
    return value.astimezone(LOCAL_TZ).strftime("%H:%M")


def parse_plan_time(value: object) -> datetime | None:
    """Parse a plan time (ISO 8601 with offset); ``None`` if absent, unparsable or naive."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_day_time(day: date, value: object) -> datetime | None:
    """Parse a request time: ``"HH:MM"`` on ``day`` (Vietnam), or ISO 8601 with offset.

    Returns ``None`` when the value is neither.
    """
    parsed = parse_plan_time(value)
    if parsed is not None or not isinstance(value, str):
        return parsed
    try:
        clock = time.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day, clock.replace(tzinfo=None), LOCAL_TZ)


__all__ = [
    "DAY_S",
    "LOCAL_TZ",
    "at_seconds",
    "hhmm",
    "iso",
    "local_day_bounds",
    "local_hhmm",
    "local_iso",
    "local_midnight",
    "local_now",
    "parse_day_time",
    "parse_plan_time",
]
