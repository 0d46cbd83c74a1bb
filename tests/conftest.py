"""Fixtures shared by every part of the suite.

Each part of buuta keeps its own fixtures beside its tests (``tests/<part>/conftest.py``);
fixtures that several parts need live in ``tests/support/`` and are registered here.
"""

pytest_plugins: list[str] = ["tests.support.postgres"]
