"""Database engines, schema upgrades and the SQLite writer lock.

buuta keeps its records in a SQLite file by default and in PostgreSQL in production; the URL
chooses (``sqlite:///path/buuta.sqlite`` or ``postgresql+psycopg://user@host/db``).

SQLite is set up for durability and concurrent readers: WAL journal, ``synchronous=FULL`` (a
commit is on disk before it returns), a busy timeout and foreign keys. SQLite allows one writer
at a time; :func:`write_lock` makes writers of one process wait their turn on a lock in memory
instead of failing or spinning on the file lock. Run one server process per SQLite file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from tracking.errors import InvalidInput

SQLITE_BUSY_TIMEOUT_MS = 30_000

_UPGRADE_LOCK_KEY = 0x62757574  # "buut": the PostgreSQL advisory lock held while upgrading

_locks: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    # Turning a new file to WAL needs its exclusive lock. When several processes open a new
    # database at once, SQLite answers "database is locked" at once instead of waiting (its busy
    # handler stands aside to avoid a deadlock between lock upgrades), so wait here instead.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause_s = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause_s)
            pause_s = min(pause_s * 2, 0.5)


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for buuta's database.

    Parameters
    ----------
    url
        A SQLAlchemy URL: ``sqlite:///relative.sqlite``, ``sqlite:////abs/path.sqlite`` or
        ``postgresql+psycopg://user:password@host:port/database``.
    **kwargs
        Passed on to :func:`sqlalchemy.create_engine` (e.g. ``pool_size``).

    Returns
    -------
    Engine
        For SQLite: WAL, synchronous=FULL, busy timeout, foreign keys, real transactions.
        For PostgreSQL: a pre-pinged connection pool.

    Raises
    ------
    InvalidInput
        If the URL is neither SQLite nor PostgreSQL, or uses an in-memory SQLite database.
    """
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        msg = f"database_url: not a database URL: {url!r}"
        raise InvalidInput(msg) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            msg = "database_url: buuta needs a SQLite file, not an in-memory database"
            raise InvalidInput(msg)
        # Connections to a SQLite file are cheap; enough of them for a server's thread pool.
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 40)
        engine = sa.create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        return sa.create_engine(parsed, **kwargs)
    msg = f"database_url: buuta supports SQLite and PostgreSQL, not {backend!r}"
    raise InvalidInput(msg)


def session_engine(session: Session) -> Engine:
    """Return the engine a session writes to (for :func:`write_lock`)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def is_sqlite(engine: Engine) -> bool:
    """Return whether ``engine`` is a SQLite engine."""
    return engine.dialect.name == "sqlite"


def alembic_config(engine: Engine | None = None) -> Config:
    """Return an Alembic configuration for buuta's migrations (``tracking/migrations``)."""
    config = Config()
    location = resources.files("tracking") / "migrations"
    config.set_main_option("script_location", str(location))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database schema up to date (Alembic upgrade to head).

    Safe to call at every start: an up-to-date database is left as it is, an empty one gets
    every table.

    Parameters
    ----------
    engine
        The engine from :func:`make_engine`.
    """
    with write_lock(engine), engine.begin() as connection:
        # Two processes starting at once (a server and ``buuta user add``, or two servers)
        # must not both create the tables: take the database's writer lock first.
        if is_sqlite(engine):
            connection.exec_driver_sql("PRAGMA user_version = 1")
        else:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK_KEY})")
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextlib.contextmanager
def write_lock(engine: Engine) -> Iterator[None]:
    """Serialise the writers of one process on a SQLite database; a no-op for PostgreSQL.

    Use it around a write transaction::

        with write_lock(engine), Session(engine) as session:
            ...
            session.commit()

    Parameters
    ----------
    engine
        The engine written to.
    """
    if not is_sqlite(engine):
        yield
        return
    with _locks_guard:
        lock = _locks.get(engine)
        if lock is None:
            lock = threading.RLock()
            _locks[engine] = lock
    with lock:
        yield
