"""The buuta HTTP service: ``create_app(settings)`` builds the FastAPI application.

Its lifespan opens the database (upgrading an empty or older one to the current schema with
``tracking.upgrade``) and owns the solver process pool; routers are mounted per resource.
Run it with ``buuta serve`` (uvicorn).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api import (
    adjust_page,
    book_pages,
    citizen_pages,
    courier_pages,
    manifest_pages,
    roster_pages,
    staff_pages,
)
from api.batch import document_list_bodies
from api.deps import TOKEN_COOKIE
from api.errors import install_error_handlers
from api.i18n import DEFAULT_LOCALE, LanguageMiddleware, translations
from api.limits import BodySizeLimit
from api.origin import SameOriginForms
from api.pages import include_pages
from api.planning import geocoder
from api.routes import (
    adjust,
    couriers,
    dossiers,
    health,
    plans,
    request_positions,
    requests,
    scans,
    slots,
    track,
)
from api.settings import Settings
from api.solver_pool import SolverPool
from tracking.db import make_engine, upgrade

log = logging.getLogger("buuta.api")

DESCRIPTION = """\
Plans couriers' routes for the public postal service's carriage of administrative dossiers,
and tracks each dossier from the citizen's home to the agency and back.

Authenticate with `Authorization: Bearer <token>` (tokens come from `buuta user add NAME
--role ROLE`; roles: admin, dispatcher, courier, staff). Errors are JSON
`{"error": code, "message": sentence}`. Times are ISO 8601 with an offset (`+07:00`).
"""

TAGS = [
    {"name": "plans", "description": "Plan a day's pickups and returns; read and re-plan."},
    {"name": "couriers", "description": "A courier's stop list and positions."},
    {"name": "scans", "description": "Scan events from couriers' phones and counters."},
    {"name": "dossiers", "description": "Where a dossier is, for centre staff; exports."},
    {"name": "requests", "description": "The request book: requests, imports, the roster, plans."},
    {"name": "slots", "description": "Windows the hotline can still promise (insertion check)."},
    {"name": "track", "description": "Public lookup for citizens (no token)."},
    {"name": "health", "description": "Liveness and readiness."},
]


def _version() -> str:
    try:
        return version("buuta")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build buuta's FastAPI application.

    Parameters
    ----------
    settings
        The configuration; read from ``BUUTA_*`` environment variables when omitted.

    Returns
    -------
    fastapi.FastAPI
        The application; its lifespan opens and upgrades the database and starts the solver pool.
    """
    settings = settings or Settings()
    translations(DEFAULT_LOCALE)  # compile the Vietnamese catalogue now: a broken .po fails here

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url())
        await run_in_threadpool(upgrade, engine)
        app.state.engine = engine
        if settings.solver_queue:  # solves go to `buuta worker` processes (api/queue.py)
            from api.queue import QueueSolver  # noqa: PLC0415 (only servers that use the queue)

            url = settings.resolved_database_url()
            app.state.solver = await run_in_threadpool(QueueSolver, url)
        else:
            app.state.solver = SolverPool(settings.solver_workers)
        try:
            yield
        finally:
            app.state.solver.close()
            engine.dispose()

    app = FastAPI(
        title="buuta",
        version=_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.geocoder = geocoder(settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SameOriginForms, cookie=TOKEN_COOKIE, allowed_origins=settings.origin_list())
    app.add_middleware(LanguageMiddleware)  # pages speak the request's language (api/i18n.py)
    install_error_handlers(app)

    app.include_router(health.router)
    app.include_router(plans.router)
    app.include_router(couriers.router)
    app.include_router(scans.router)
    app.include_router(dossiers.router)
    app.include_router(track.router)
    app.include_router(requests.router)  # the request book (DESIGN §8)
    app.include_router(adjust.router)  # moves, locks and re-optimising by hand (issue 11)
    app.include_router(slots.router)  # bookable windows (api/routes/slots.py)
    app.include_router(request_positions.router)  # a request's pin set by hand

    # --- HTML pages and maps (api/pages.py, the map and page engineer's): include below. ---
    include_pages(app)
    app.include_router(courier_pages.router)  # the courier's phone (api/courier_pages.py)
    app.include_router(citizen_pages.router)  # /tra-cuu (api/citizen_pages.py)
    app.include_router(staff_pages.router)  # search, journey in words, board
    app.include_router(manifest_pages.router)  # shuttle manifests and their check-off
    app.include_router(adjust_page.router)  # /plans/{id}/adjust: moves, locks, re-optimise
    app.include_router(book_pages.router)  # the request book: list, pins, hotline, import
    app.include_router(roster_pages.router)  # couriers, sites and shuttles as forms
    # --- end of pages ---
    document_list_bodies(app)
    return app
