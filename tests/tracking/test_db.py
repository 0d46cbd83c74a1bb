"""Engines, migrations and the SQLite writer lock (tracking/db.py, tracking/migrations)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from tests.support.postgres import fresh_database
from tracking import InvalidInput, make_engine, upgrade, write_lock
from tracking.db import alembic_config
from tracking.models import TABLE_NAMES


def _include(obj: object, name: str | None, type_: str, *_: object) -> bool:
    return type_ != "table" or name in TABLE_NAMES


def test_upgrade_yields_the_models_schema(engine: Engine) -> None:
    """Upgrading an empty database gives exactly the models' schema: autogenerate finds no diff."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
    assert set(sa.inspect(engine).get_table_names()) >= TABLE_NAMES


def test_schema_comparison_notices_a_drift(sqlite_engine: Engine) -> None:
    """The comparison above is not vacuous: a column the migrations lack shows up as a diff."""
    drifted = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:
        if table.name in TABLE_NAMES:
            table.to_metadata(drifted)
    drifted.tables["dossiers"].append_column(sa.Column("priority", sa.Integer(), nullable=True))
    with sqlite_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include}
        )
        diff = compare_metadata(context, drifted)
    assert [(d[0], d[3].name) for d in diff] == [("add_column", "priority")]


def test_upgrade_is_at_head_and_idempotent(engine: Engine) -> None:
    """A second upgrade changes nothing, and the database records the newest revision."""
    upgrade(engine)
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    assert head is not None


def test_sqlite_is_durable_and_checks_foreign_keys(sqlite_engine: Engine) -> None:
    """SQLite runs with WAL, synchronous=FULL, a busy timeout and foreign keys on."""
    with sqlite_engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
        assert pragma == {
            "journal_mode": "wal",
            "synchronous": 2,
            "foreign_keys": 1,
            "busy_timeout": 30_000,
        }
        with pytest.raises(sa.exc.IntegrityError):
            conn.exec_driver_sql(
                "INSERT INTO citizen_contacts (dossier_id, salt) VALUES (999, 'x')"
            )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u@h/db", "not 'mysql'"),
        ("not a url", "not a database URL"),
    ],
)
def test_make_engine_refuses_unsupported_urls(url: str, message: str) -> None:
    """Unsupported or in-memory URLs raise InvalidInput naming database_url."""
    with pytest.raises(InvalidInput, match="database_url") as caught:
        make_engine(url)
    assert message in str(caught.value)


def test_write_lock_serialises_sqlite_writers(tmp_path: Path) -> None:
    """Two threads holding write_lock on one SQLite engine never overlap."""
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite'}")
    inside = 0
    overlaps = 0
    guard = threading.Lock()

    def writer() -> None:
        nonlocal inside, overlaps
        for _ in range(20):
            with write_lock(engine):
                with guard:
                    inside += 1
                    overlaps += inside > 1
                time.sleep(0.001)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == 0
    engine.dispose()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_processes_upgrading_at_once_do_not_collide(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """Four processes upgrading one empty database at the same moment all succeed."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres_server"), "upgrade_race")
    start_at = time.time() + 2.0
    code = (
        "import sys, time\n"
        "from tracking import make_engine, upgrade\n"
        "engine = make_engine(sys.argv[1])\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "upgrade(engine)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url, str(start_at)],
            cwd=Path(__file__).resolve().parents[2],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) >= TABLE_NAMES
    engine.dispose()
