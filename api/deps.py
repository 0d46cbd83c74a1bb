"""Typed dependencies of the routes: settings, a database session, the current user, role guards.

A token is read from ``Authorization: Bearer <token>`` or, for the HTML pages, from the
``buuta_token`` cookie. Routes declare what they need with the aliases below::

    @router.get("/{plan_id}")
    def read_plan(plan_id: str, session: SessionDep, user: StaffUser) -> dict[str, Any]: ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.limits import RateLimiter
from api.settings import Settings
from api.solver_pool import SolverPool
from tracking.models import User
from tracking.users import user_for_token

TOKEN_COOKIE = "buuta_token"  # noqa: S105 (a cookie name, not a secret)
"""Name of the cookie the HTML pages carry the API token in."""

ADMIN, DISPATCHER, COURIER, STAFF = "admin", "dispatcher", "courier", "staff"
ROLES = (ADMIN, DISPATCHER, COURIER, STAFF)


async def get_settings(request: Request) -> Settings:
    """Return the settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """Return the database engine opened by the app's lifespan."""
    engine: Engine = request.app.state.engine
    return engine


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Yield a database session for one request, closed afterwards.

    The session connects lazily, when the route first uses it (in the route's thread); the
    trivial dependencies of this module are ``async`` so that a request does not hop to the
    thread pool for each of them.
    """
    engine: Engine = request.app.state.engine
    with Session(engine) as session:
        yield session


async def get_solver(request: Request) -> SolverPool:
    """Return the app's solver process pool."""
    pool: SolverPool = request.app.state.solver
    return pool


async def get_geocoder(request: Request) -> Any:
    """Return the app's geocoder (geopy interface) for jobs given only by address."""
    return request.app.state.geocoder


async def get_track_limiter(request: Request) -> RateLimiter:
    """Return the rate limiter of public tracking lookups."""
    limiter: RateLimiter = request.app.state.track_limiter
    return limiter


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
SolverDep = Annotated[SolverPool, Depends(get_solver)]
TrackLimiterDep = Annotated[RateLimiter, Depends(get_track_limiter)]
GeocoderDep = Annotated[Any, Depends(get_geocoder)]


def request_token(request: Request) -> str | None:
    """Return the API token of the request (Bearer header first, then the cookie), if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get(TOKEN_COOKIE, "").strip()
    return cookie or None


def get_current_user(request: Request, session: SessionDep) -> User:
    """Return the user whose token the request carries.

    Raises
    ------
    HTTPException
        401 when the token is missing, unknown or revoked.
    """
    token = request_token(request)
    if token is None:
        msg = "this route needs an API token: send the header 'Authorization: Bearer <token>'"
        raise HTTPException(401, msg, headers={"WWW-Authenticate": "Bearer"})
    user = user_for_token(session=session, token=token)
    if user is None:
        msg = "the API token is not valid (unknown or revoked); ask an administrator for one"
        raise HTTPException(401, msg, headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def role_of(user: User) -> str:
    """Return the user's role as a plain string (``admin``, ``courier`` ...)."""
    return str(getattr(user.role, "value", user.role))


def require_roles(*roles: str) -> Callable[[User], Awaitable[User]]:
    """Return a dependency that lets only users with one of ``roles`` through (else 403)."""
    allowed = ", ".join(roles)

    async def guard(user: CurrentUser) -> User:
        if role_of(user) not in roles:
            msg = f"the {role_of(user)} role may not use this route (allowed: {allowed})"
            raise HTTPException(403, msg)
        return user

    return guard


AdminUser = Annotated[User, Depends(require_roles(ADMIN))]
DispatcherUser = Annotated[User, Depends(require_roles(DISPATCHER, ADMIN))]
"""Dispatchers and administrators: plan and re-plan."""
StaffUser = Annotated[User, Depends(require_roles(STAFF, DISPATCHER, ADMIN))]
"""Centre staff, dispatchers and administrators: read dossiers and plans."""
ScanUser = Annotated[User, Depends(require_roles(COURIER, STAFF, ADMIN))]
"""Anyone who may scan: couriers (their own dossiers only, checked by tracking) and staff."""
