"""Plan states in the database: migration ``0005_drafts`` on SQLite and PostgreSQL.

Plans stored before drafts existed were all published: the migration gives every existing row
``state = 'published'``, and a plan stored after it without a state is published too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.tracking.conftest import BACKENDS, _engine_for
from tracking.db import alembic_config
from tracking.drafts import drafts_of_day
from tracking.models import StoredPlan, utcnow
from tracking.plans import published_plan


@pytest.fixture(params=BACKENDS)
def engine_at_0004(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated only up to the request book (revision ``0004_requests``)."""
    eng = _engine_for(request.param, tmp_path, request)
    _migrate(eng, "0004_requests")
    yield eng
    eng.dispose()


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_plans_stored_before_drafts_become_published(engine_at_0004: Engine) -> None:
    """A plan row of revision 0004 reads as published after the upgrade, and the downgrade
    takes the columns away again."""
    with engine_at_0004.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO plans (id, date, status, request_json, plan_json, created_by, "
                "created_at) VALUES ('old', '2026-11-23', 'complete', '{}', '{}', 'd1', :now)"
            ),
            {"now": utcnow()},
        )
    _migrate(engine_at_0004, "head")
    with Session(engine_at_0004) as session:
        old = session.get(StoredPlan, "old")
        assert old is not None
        assert (old.state, old.base_plan_id, old.published_at) == ("published", None, None)
        assert published_plan(session=session, date="2026-11-23") is old
        assert drafts_of_day(session=session, date="2026-11-23") == []
    _migrate(engine_at_0004, "0004_requests", down=True)
    columns = {c["name"] for c in sa.inspect(engine_at_0004).get_columns("plans")}
    assert "state" not in columns and "base_plan_id" not in columns
