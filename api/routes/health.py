"""``/healthz``: is the service up and its database reachable."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import EngineDep
from api.errors import error_body

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=None)
def healthz(engine: EngineDep) -> dict[str, Any] | JSONResponse:
    """Answer 200 when the database answers a query, 503 otherwise."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return JSONResponse(
            status_code=503, content=error_body("unavailable", "the database does not answer")
        )
    return {"status": "ok", "database": engine.dialect.name}
