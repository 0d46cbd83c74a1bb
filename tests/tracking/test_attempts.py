"""Attempt counters in the database (tracking/attempts.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tracking.attempts import Attempts, count_attempt, recent_attempts
from tracking.models import AttemptCount

T0 = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)  # a whole minute: a window starts here


def test_attempts_count_per_key_and_window_and_keys_are_hashed(engine: Engine) -> None:
    """Three attempts of one key in a 60 s window count 3, another key counts apart, and the
    next window starts again with the previous count carried as ``previous``. Keys are stored
    as SHA-256, never as sent; windows older than the previous one are deleted."""
    with Session(engine) as session:
        for i in range(3):
            seen = count_attempt(
                session=session, bucket="b", key="10.0.0.1", window_s=60,
                now=T0 + timedelta(seconds=i),
            )  # fmt: skip
        assert (seen.count, seen.previous) == (3, 0)
        other = count_attempt(session=session, bucket="b", key="10.0.0.2", window_s=60, now=T0)
        assert other.count == 1
        later = count_attempt(
            session=session, bucket="b", key="10.0.0.1", window_s=60,
            now=T0 + timedelta(seconds=90),
        )  # fmt: skip
        assert (later.count, later.previous, later.into_s) == (1, 3, 30)
        # 30 s into the window, half of the previous window is still within reach: 1 + 3 * 0.5
        assert later.recent == 2.5
        peek = recent_attempts(
            session=session, bucket="b", key="10.0.0.1", window_s=60,
            now=T0 + timedelta(seconds=95),
        )  # fmt: skip
        assert (peek.count, peek.previous) == (1, 3)
        count_attempt(
            session=session, bucket="b", key="10.0.0.1", window_s=60,
            now=T0 + timedelta(seconds=240),
        )  # fmt: skip
        keys = session.exec(select(AttemptCount.key, AttemptCount.window_no)).all()
    assert all(len(key) == 64 and "10.0.0" not in key for key, _ in keys)
    windows = {window for _, window in keys}
    assert min(windows) >= (int(T0.timestamp()) + 240) // 60 - 1  # old windows were deleted


def test_retry_after_waits_until_an_attempt_fits_the_limit() -> None:
    """With a limit of 5: 6 attempts in the current window, 40 s into a 60 s one, wait until
    the window ends (20 s) and the previous count fades below the limit: 1 + 6 * (1 - t / 60)
    <= 5 from t = 20 s, so 20 + 20 + 1 s of margin. With 2 now and 10 before, 30 s in:
    3 + 10 * (1 - t / 60) <= 5 from t = 48 s, so 18 s + 1 s."""
    assert Attempts(count=6, previous=0, into_s=40, window_s=60).retry_after_s(5) == 41
    assert Attempts(count=2, previous=10, into_s=30, window_s=60).retry_after_s(5) == 19
    assert not Attempts(count=2, previous=4, into_s=30, window_s=60).over(5)  # 2 + 2 = 4
    assert Attempts(count=4, previous=4, into_s=30, window_s=60).over(5)  # 4 + 2 = 6
