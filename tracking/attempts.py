"""Attempt counters kept in the database, so that every API process counts together.

A counter is ``(bucket, key, window)``: how many attempts ``key`` made in one fixed window of
``window_s`` seconds. ``bucket`` says what is counted (``track_address``, ``track_code`` ...);
the key is stored as a SHA-256, never as the address or code itself. One statement adds an
attempt and reads the new count (``INSERT … ON CONFLICT DO UPDATE … RETURNING``), atomic on
PostgreSQL and under :func:`~tracking.db.write_lock` on SQLite.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from tracking.db import is_sqlite, session_engine, write_lock
from tracking.models import AttemptCount, utcnow


@dataclass(frozen=True, slots=True)
class Attempts:
    """The attempts of one key around now, as a sliding window over two fixed ones.

    Attributes
    ----------
    count
        Attempts counted in the current fixed window (the one just made included).
    previous
        Attempts counted in the window before it.
    into_s
        Seconds since the current window began.
    window_s
        Length of a window, in seconds.
    """

    count: int
    previous: int
    into_s: int
    window_s: int

    @property
    def recent(self) -> float:
        """Attempts in the last ``window_s`` seconds, estimated: the current window's count plus
        the previous window's weighted by how much of it is still within reach (no edge where
        a client gets twice the limit, as plain fixed windows allow)."""
        return self.count + self.previous * (1 - self.into_s / self.window_s)

    def over(self, limit: int) -> bool:
        """Return whether more than ``limit`` attempts were made in the last window."""
        return self.recent > limit

    def retry_after_s(self, limit: int) -> int:
        """Seconds to wait until an attempt is within ``limit`` again (at least 1)."""
        left = self.window_s - self.into_s
        if self.count + 1 <= limit:  # only the previous window's share is in the way
            needed = 1 - (limit - self.count - 1) / max(self.previous, 1)
            return max(1, int(self.window_s * needed) - self.into_s + 1)
        # after this window ends its count becomes the previous one and fades over a window
        return max(1, left + int(self.window_s * (1 - (limit - 1) / self.count)) + 1)


_COUNT = sa.inspect(AttemptCount).columns["count"]


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _window(now: datetime, window_s: int) -> tuple[int, int]:
    seconds = int(now.timestamp())
    return seconds // window_s, seconds % window_s


def _previous(session: Session, bucket: str, key: str, number: int) -> int:
    row = session.exec(
        select(AttemptCount.count).where(
            AttemptCount.bucket == bucket,
            AttemptCount.key == key,
            AttemptCount.window_no == number - 1,
        )
    ).first()
    return int(row or 0)


def count_attempt(
    *, session: Session, bucket: str, key: str, window_s: int, now: datetime | None = None
) -> Attempts:
    """Add one attempt of ``key`` to its current window and return the attempts around now.

    Commits the session. Windows older than the previous one are deleted for the bucket when a
    new window starts, so the table stays small.

    Parameters
    ----------
    session
        The database session.
    bucket
        What is counted, e.g. ``track_address``.
    key
        Who or what is counted (a client address, a dossier code); stored hashed.
    window_s
        Length of the window, in seconds.
    now
        The server's clock; defaults to the current time.
    """
    number, into = _window(utcnow() if now is None else now, window_s)
    hashed = _hashed(key)
    values = {"bucket": bucket, "key": hashed, "window_no": number, "count": 1}
    insert = sqlite.insert if is_sqlite(session_engine(session)) else postgresql.insert
    stmt = (
        insert(AttemptCount)
        .values(values)
        .on_conflict_do_update(
            index_elements=["bucket", "key", "window_no"], set_={"count": _COUNT + 1}
        )
        .returning(_COUNT)
    )
    session.commit()
    with write_lock(session_engine(session)):
        count = int(session.connection().execute(stmt).scalar_one())
        if count == 1:  # the first attempt of a new window: forget windows long past
            session.execute(
                sa.delete(AttemptCount).where(
                    col(AttemptCount.bucket) == bucket, col(AttemptCount.window_no) < number - 1
                )
            )
        previous = _previous(session, bucket, hashed, number)
        session.commit()
    return Attempts(count=count, previous=previous, into_s=into, window_s=window_s)


def recent_attempts(
    *, session: Session, bucket: str, key: str, window_s: int, now: datetime | None = None
) -> Attempts:
    """Return the attempts of ``key`` around now, without adding one."""
    number, into = _window(utcnow() if now is None else now, window_s)
    hashed = _hashed(key)
    current = session.exec(
        select(AttemptCount.count).where(
            AttemptCount.bucket == bucket,
            AttemptCount.key == hashed,
            AttemptCount.window_no == number,
        )
    ).first()
    previous = _previous(session, bucket, hashed, number)
    return Attempts(count=int(current or 0), previous=previous, into_s=into, window_s=window_s)
