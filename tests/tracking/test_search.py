"""Finding dossiers by code as people type it (tiny day: D1, D2, D3)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.tracking.conftest import World
from tracking.models import Dossier, utcnow
from tracking.search import find_dossier, search_dossiers


def test_any_case_and_blanks_find_the_dossier(world: World) -> None:
    """'d1' and ' D1 ' find D1; an unknown code finds nothing."""
    with world.session() as session:
        assert (found := find_dossier(session=session, code=" d1 ")) is not None
        assert found.code == "D1"
        assert find_dossier(session=session, code="D9") is None
        assert find_dossier(session=session, code="   ") is None


def test_a_mixed_case_code_is_found_only_by_the_full_scan(sqlite_engine: Engine) -> None:
    """A code stored as 'Ab-1' is found from 'ab-1' by the scan, not by the index-only path
    the public look-up uses (so an unknown code costs the same as a known one)."""
    with Session(sqlite_engine) as session:
        now = utcnow()
        session.add(
            Dossier(code="Ab-1", direction="pickup", status="requested", created_at=now,
                    updated_at=now)
        )  # fmt: skip
        session.commit()
        assert find_dossier(session=session, code="ab-1") is not None
        assert find_dossier(session=session, code="ab-1", scan=False) is None


def test_search_is_partial_case_insensitive_and_literal(world: World) -> None:
    """'d' lists the three dossiers; '%' and '_' match only themselves."""
    with world.session() as session:
        assert [d.code for d in search_dossiers(session=session, text="d")] == ["D1", "D2", "D3"]
        assert [d.code for d in search_dossiers(session=session, text="d2")] == ["D2"]
        assert search_dossiers(session=session, text="%") == []
        assert search_dossiers(session=session, text="_") == []
