"""Fixtures of the tracking tests: a migrated database (SQLite file or real PostgreSQL) and
the small test day of ``tests/tracking/helpers.py`` stored in it, with one user per role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.support.postgres import PostgresServer, fresh_database
from tests.tracking import helpers
from tracking import User, create_user, make_engine, store_plan, upgrade

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _engine_for(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Engine:
    if backend == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'buuta.sqlite'}")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return make_engine(fresh_database(server, f"trk_{uuid.uuid4().hex[:12]}"))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty buuta database, migrated to head: a SQLite file, then a real PostgreSQL one."""
    eng = _engine_for(request.param, tmp_path, request)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated SQLite file database (for tests that need one backend only)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'buuta.sqlite'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@dataclass
class World:
    """The test day stored in a database, with a user per role (courier users c1 and c2)."""

    engine: Engine
    users: dict[str, User]
    tokens: dict[str, str]

    def session(self) -> Session:
        """Open a new session (close it with ``with``)."""
        return Session(self.engine)

    def user(self, name: str, session: Session) -> User:
        """Return the user ``name`` attached to ``session``."""
        found = session.get(User, self.users[name].id)
        assert found is not None
        return found


def build_world(engine: Engine) -> World:
    """Store the test day's plan and create users: dispatcher, staff, admin, c1, c2."""
    users: dict[str, User] = {}
    tokens: dict[str, str] = {}
    with Session(engine, expire_on_commit=False) as session:
        for name, role in (
            ("disp", "dispatcher"),
            ("staff", "staff"),
            ("admin", "admin"),
            ("c1", "courier"),
            ("c2", "courier"),
        ):
            users[name], tokens[name] = create_user(session=session, name=name, role=role)
        store_plan(
            session=session, request=helpers.request(), plan=helpers.plan(), created_by="disp"
        )
    return World(engine=engine, users=users, tokens=tokens)


@pytest.fixture
def world(engine: Engine) -> World:
    """The test day stored on each backend (SQLite, PostgreSQL)."""
    return build_world(engine)


@pytest.fixture
def sqlite_world(sqlite_engine: Engine) -> World:
    """The test day stored in a SQLite file only."""
    return build_world(sqlite_engine)
