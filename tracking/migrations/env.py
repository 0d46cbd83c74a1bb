"""Alembic environment of buuta: runs on the connection handed in by ``tracking.db.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from tracking import models

config = context.config
target_metadata = SQLModel.metadata


def _include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
    if type_ == "table":
        return name in models.TABLE_NAMES
    return True


def run_migrations_online() -> None:
    """Run the migrations on ``config.attributes['connection']`` (or a new engine connection)."""
    connection = config.attributes.get("connection")
    if connection is None:
        engine = config.attributes["engine"]
        with engine.begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    msg = "buuta runs its migrations online only (tracking.db.upgrade)"
    raise RuntimeError(msg)
run_migrations_online()
