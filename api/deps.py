"""Typed dependencies of the routes: settings, a database session, the current user, role guards.

A token is read from ``Authorization: Bearer <token>`` or, for the HTML pages, from the
``buuta_token`` cookie. Routes declare what they need with the aliases below::

    @router.get("/{plan_id}")
    def read_plan(plan_id: str, session: SessionDep, user: StaffUser) -> dict[str, Any]: ...
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

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


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
SolverDep = Annotated[SolverPool, Depends(get_solver)]
GeocoderDep = Annotated[Any, Depends(get_geocoder)]


def request_token(request: Request) -> str | None:
    """Return the API token of the request (Bearer header first, then the cookie), if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get(TOKEN_COOKIE, "").strip()
    return cookie or None


class UserCache:
    """Users recently authenticated, by the SHA-256 of their token, for ``ttl_s`` seconds.

    Saves a database round trip on each request of a phone that syncs often; a user made
    inactive keeps access for at most ``ttl_s``. Only known tokens are kept (unknown ones
    always go to the database), and only their hash, never the token.
    """

    def __init__(
        self,
        ttl_s: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock  # seconds; tests pass their own so expiry needs no sleeping
        self._known: dict[str, tuple[float, User]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def get(self, token: str) -> User | None:
        """Return the cached user of ``token`` if it was seen less than ``ttl_s`` ago."""
        now = self._clock()
        with self._lock:
            hit = self._known.get(self._key(token))
        if hit is None or hit[0] < now:
            return None
        return hit[1]

    def put(self, token: str, user: User) -> User:
        """Remember a detached copy of ``user`` for ``token`` (unless the TTL is 0) and return
        the copy."""
        copy = User(
            id=user.id,
            name=user.name,
            role=user.role,
            token_hash=user.token_hash,
            active=user.active,
            created_at=user.created_at,
        )
        if self.ttl_s <= 0:
            return copy
        with self._lock:
            if len(self._known) >= self.max_entries:
                self._known.clear()
            self._known[self._key(token)] = (self._clock() + self.ttl_s, copy)
        return copy


def _cache(request: Request) -> UserCache:
    cache = getattr(request.app.state, "user_cache", None)
    if cache is None:
        settings: Settings = request.app.state.settings
        cache = request.app.state.user_cache = UserCache(ttl_s=settings.auth_cache_s)
    return cache


def _token_or_401(request: Request) -> str:
    token = request_token(request)
    if token is None:
        msg = "this route needs an API token: send the header 'Authorization: Bearer <token>'"
        raise HTTPException(401, msg, headers={"WWW-Authenticate": "Bearer"})
    return token


def get_current_user(request: Request, session: Session) -> User:
    """Return the user whose token the request carries (for pages that call it directly).

    Raises
    ------
    HTTPException
        401 when the token is missing, unknown or revoked.
    """
    token = _token_or_401(request)
    cache = _cache(request)
    cached = cache.get(token)
    if cached is not None:
        return cached
    user = user_for_token(session=session, token=token)
    if user is None:
        msg = "the API token is not valid (unknown or revoked); ask an administrator for one"
        raise HTTPException(401, msg, headers={"WWW-Authenticate": "Bearer"})
    return cache.put(token, user)


def _look_up_user(request: Request) -> User:
    engine: Engine = request.app.state.engine
    with Session(engine) as session:
        return get_current_user(request, session)


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `buuta user add NAME --role ROLE` (or the buuta_token cookie).",
)


async def current_user(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> User:
    """The dependency behind :data:`CurrentUser`: a recently seen token is answered from
    memory; otherwise the database is asked (in the thread pool). ``_credentials`` only
    declares the Bearer scheme in OpenAPI; the token is read by :func:`request_token`, which
    also accepts the pages' cookie."""
    cached = _cache(request).get(_token_or_401(request))
    if cached is not None:
        return cached
    return await run_in_threadpool(_look_up_user, request)


CurrentUser = Annotated[User, Depends(current_user)]


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
