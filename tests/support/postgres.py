"""A real PostgreSQL server for the test session: the ``postgres_server`` fixture.

The server itself is started by :mod:`harness.postgres` (importable without pytest, for the
benchmarks); its names are re-exported here for the tests::

    def test_x(postgres_server):
        url = fresh_database(postgres_server, "scans")
        engine = make_engine(url)
"""

from collections.abc import Iterator

import pytest

from harness.postgres import SUPERUSER, PostgresServer, fresh_database, run_postgres_server

__all__ = [
    "SUPERUSER",
    "PostgresServer",
    "fresh_database",
    "postgres_server",
    "run_postgres_server",
]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole test session (loopback, trust auth, temp dir)."""
    with run_postgres_server() as server:
        yield server
