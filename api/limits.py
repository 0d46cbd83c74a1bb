"""Limits that protect the service: request body size, list sizes and solve times.

:class:`BodySizeLimit` is a pure ASGI middleware: it answers 413 before reading a body whose
``Content-Length`` is too large, and stops reading a streamed body as soon as it passes the limit.
:mod:`api.ratelimit` limits the public lookups, counted in the database.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from api.settings import Settings
from routing.request import MAX_ENTRIES
from tracking.errors import InvalidInput
from tracking.models import User


class BodySizeLimit:
    """Answer 413 to any request whose body exceeds ``max_bytes``.

    Parameters
    ----------
    app
        The wrapped ASGI application.
    max_bytes
        Largest accepted body, in bytes.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> str:
        return f"the request body is larger than the limit of {self.max_bytes} bytes"

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = JSONResponse(
            error_body("too_large", self._message()),
            status_code=413,
            headers={"connection": "close"},
        )
        await refusal(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared and the actual body size, then pass the request on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._reject(scope, receive, send)
                    return
        seen = 0

        async def counting_receive() -> Message:
            # A streamed (chunked) body: stop reading once it passes the limit. The route's
            # exception handling turns the HTTPException into the same 413 JSON answer.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, counting_receive, send)


def solve_cap_s(user: User, settings: Settings) -> float:
    """Return the longest solver time limit ``user``'s role may ask for, in seconds.

    Solves share a few solver processes; a dispatcher's plan is capped at
    ``solve_time_limit_dispatcher_cap_s`` so that one long solve cannot keep everyone else's
    waiting, while an administrator may go up to ``solve_time_limit_cap_s`` (a benchmark, a
    province-wide plan at night).
    """
    role = str(getattr(user.role, "value", user.role))
    if role == "admin":
        return settings.solve_time_limit_cap_s
    return min(settings.solve_time_limit_dispatcher_cap_s, settings.solve_time_limit_cap_s)


LISTS_OF_PLAN_BODIES = {**MAX_ENTRIES, "added_jobs": MAX_ENTRIES["jobs"]}
"""Lists of a plan or re-plan body, with the most entries each may hold."""


async def plan_lists_within_limits(request: Request) -> None:
    """Refuse a plan body whose lists are over :data:`LISTS_OF_PLAN_BODIES` before it is validated.

    A route dependency: FastAPI solves it before validating the body, and validating 600,000
    jobs would hold the event loop for seconds (issue 15). The body, already limited in bytes,
    is decoded once more here (tens of milliseconds at the byte limit); a body that is not a
    JSON object is left to the route's own validation.

    Raises
    ------
    InvalidInput
        Naming the list and its limit (422, as ``routing`` does for the same limit).
    """
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError):
        return
    if not isinstance(data, dict):
        return
    for field, limit in LISTS_OF_PLAN_BODIES.items():
        items = data.get(field)
        if isinstance(items, list) and len(items) > limit:
            msg = (
                f"{field}: holds {len(items):,} entries, over the limit of {limit:,} in one plan "
                "request; plan the day district by district."
            )
            raise InvalidInput(msg)
