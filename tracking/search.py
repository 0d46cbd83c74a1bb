"""Finding dossiers by their code as people type it: any case, whole or in part.

Codes are printed in capitals (``H12.22-261123-0001``) but read aloud, copied from a message or
typed on a phone in lower case. :func:`find_dossier` resolves one code whatever its case (the
journey page, the citizen's look-up); :func:`search_dossiers` lists the dossiers whose code
contains what a member of staff typed (the search box of every staff page).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from tracking.models import Dossier

__all__ = ["SEARCH_LIMIT", "find_dossier", "normalise_code", "search_dossiers"]

SEARCH_LIMIT = 50
"""At most this many dossiers are listed for one search."""


def normalise_code(text: str) -> str:
    """Return a typed code without surrounding blanks and inner spaces (``" h12 .22"``)."""
    return "".join(text.split())


def find_dossier(*, session: Session, code: str, scan: bool = True) -> Dossier | None:
    """Return the dossier whose code is ``code`` in any case, or ``None``.

    The code as typed and in capitals are tried first through the unique index; only when
    neither matches (and ``scan`` allows it) is the code compared case-insensitively over the
    table.

    Parameters
    ----------
    session
        The database session.
    code
        The code as typed (blanks are ignored).
    scan
        Whether to fall back on the slower comparison over the table. The public look-up does
        not: an unknown code must cost the same as a known one, so timing tells nothing.
    """
    typed = normalise_code(code)
    if not typed:
        return None
    candidates = sorted({typed, typed.upper()})
    stmt = select(Dossier).where(col(Dossier.code).in_(candidates)).order_by(col(Dossier.id))
    found = list(session.exec(stmt))
    exact = next((d for d in found if d.code == typed), None)
    if exact is not None or found or not scan:
        return exact or (found[0] if found else None)
    stmt = select(Dossier).where(sa.func.lower(col(Dossier.code)) == typed.lower()).limit(1)
    return session.exec(stmt).first()


def search_dossiers(*, session: Session, text: str, limit: int = SEARCH_LIMIT) -> list[Dossier]:
    """Return the dossiers whose code contains ``text`` in any case, exact match first.

    Parameters
    ----------
    session
        The database session.
    text
        Part of a code, as typed (blanks are ignored); ``%`` and ``_`` match themselves.
    limit
        Most dossiers returned.

    Returns
    -------
    list of Dossier
        The whole code first if it exists, then the others by code.
    """
    typed = normalise_code(text)
    if not typed:
        return []
    escaped = typed.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = (
        select(Dossier)
        .where(sa.func.lower(col(Dossier.code)).like(f"%{escaped}%", escape="\\"))
        .order_by(col(Dossier.code))
        .limit(limit)
    )
    found = list(session.exec(stmt))
    found.sort(key=lambda d: d.code.lower() != typed.lower())
    return found
