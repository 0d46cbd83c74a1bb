"""The one place where buuta's errors become HTTP answers.

Every error answer is JSON ``{"error": <code>, "message": <a sentence saying what is wrong>}``;
validation errors add ``"fields": [{"field": "jobs[3].window", "message": ...}]``. The values a
client sent are never echoed back (they may be personal data), and no traceback reaches a client.

===========================================  ======  =====================
error                                        status  ``error`` code
===========================================  ======  =====================
malformed JSON, schema violation             422     ``invalid_request``
``routing.RequestError``, ``SolveRejected``  422     ``invalid_request``
``tracking.errors.InvalidInput``             422     ``invalid_request``
any other ``ValueError`` (bad input)         422     ``invalid_request``
missing or unknown token                     401     ``unauthorized``
``tracking.errors.Forbidden``                403     ``forbidden``
``tracking.errors.NotFound``                 404     ``not_found``
``tracking.errors.Conflict``                 409     ``conflict``
:class:`PayloadTooLarge`                     413     ``too_large``
:class:`RateLimited`                         429     ``rate_limited``
:class:`SolverUnavailable`                   503     ``solver_unavailable``
anything else                                500     ``internal``
===========================================  ======  =====================

A browser asking for a page (``Accept: text/html``, a path outside ``/v1/`` and ``/static/``)
gets the same status as an HTML page in its language instead (:func:`wants_html`): an unknown
address is a 404 page, a crash a 500 page. The JSON API never answers HTML.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.i18n import N_, gettext, locale_of_scope, use_locale
from api.solver_pool import SolveRejected, SolverUnavailable
from routing import RequestError
from tracking.errors import Conflict, Forbidden, InvalidInput, NotFound

log = logging.getLogger("buuta.api")


class PayloadTooLarge(ValueError):  # noqa: N818 (named after the HTTP answer)
    """The body or the batch is larger than the service accepts; the message names the limit."""


class RateLimited(ValueError):  # noqa: N818
    """Too many requests from one client; ``retry_after_s`` says when to try again."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """Return the JSON body of an error answer.

    Parameters
    ----------
    code
        Machine-readable error code (``not_found``, ``invalid_request`` ...).
    message
        A sentence for the person reading it.
    """
    return {"error": code, "message": message, **extra}


def _json(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(code, message, **extra))


LIST_BODIES = {"scans": "events", "positions": "positions"}
"""Names given to list bodies in error paths, by the last segment of the route's path."""


def field_path(loc: Sequence[int | str], *, list_name: str = "") -> str:
    """Spell a pydantic error location as a field path: ``("body", 0, "at")`` → ``events[0].at``.

    The leading ``body`` is dropped (a list body is named ``list_name``); query and path
    parameters keep their prefix (``query.date``).
    """
    parts = list(loc)
    text = ""
    if parts and parts[0] == "body":
        parts = parts[1:]
        if parts and isinstance(parts[0], int):
            text = list_name
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def _validation_fields(errors: Sequence[Any], list_name: str = "") -> list[dict[str, str]]:
    fields: list[dict[str, str]] = []
    for err in errors:
        loc = err.get("loc", ())
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "not valid JSON")
            fields.append({"field": "body", "message": f"malformed JSON: {reason}"})
            continue
        path = field_path(loc, list_name=list_name)
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if err.get("type") == "missing":
            message = "this field is required"
        fields.append({"field": path, "message": message})
    return fields


MAX_FIELDS = 100
"""Fields listed in a 422 answer at most; the last entry says how many more there were."""


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    last = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    errors = exc.errors()
    fields = _validation_fields(errors[:MAX_FIELDS], LIST_BODIES.get(last, "body"))
    if len(errors) > MAX_FIELDS:
        fields.append({"field": "body", "message": f"and {len(errors) - MAX_FIELDS} more errors"})
    if wants_html(request.url.path, request.headers.get("accept", "")):
        from api.pages import error_page  # noqa: PLC0415 (the pages import this module's callers)

        names = ", ".join(sorted({f["field"].rsplit(".", 1)[-1] for f in fields}))
        message = gettext("These values of the address are not valid: %(names)s.", names=names)
        return error_page(422, gettext("Bad request"), message)
    shown = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    if len(fields) > 5:
        shown += f"; and {len(fields) - 5} more"
    return _json(422, "invalid_request", shown or "invalid request", fields=fields)


_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.){0,400}'|\"(?:[^\"\\\n]|\\.){0,400}\"")
_VOCABULARY = re.compile(r"[a-z][a-z_]{0,39}|\d\d:\d\d|[A-Za-z-]+: [A-Za-z <>]+")
"""Quoted words buuta itself writes in messages: codes ('pickup'), formats ('08:00'), headers."""


def without_values(message: str) -> str:
    """Replace the quoted values in an error message by ``'…'``, keeping buuta's own words.

    The domain packages name the offending value in their messages (``unknown site 'po-x'``,
    ``got '0912 345 678'``), which helps a command-line user; an HTTP answer must not echo what
    was sent, since it may be personal data. Lower-case codes (``'pickup'``), ``'HH:MM'``
    examples and header names are kept: they are vocabulary, not data.
    """

    def replace(match: re.Match[str]) -> str:
        inner = match.group(0)[1:-1]
        return match.group(0) if _VOCABULARY.fullmatch(inner) else "'…'"

    return _QUOTED.sub(replace, message)


async def _on_value_error(_: Request, exc: Exception) -> JSONResponse:
    return _json(422, "invalid_request", without_values(str(exc)))


async def _on_not_found(_: Request, exc: Exception) -> JSONResponse:
    return _json(404, "not_found", without_values(str(exc)))


async def _on_forbidden(_: Request, exc: Exception) -> JSONResponse:
    return _json(403, "forbidden", without_values(str(exc)))


async def _on_conflict(_: Request, exc: Exception) -> JSONResponse:
    return _json(409, "conflict", without_values(str(exc)))


async def _on_too_large(_: Request, exc: Exception) -> JSONResponse:
    return _json(413, "too_large", str(exc))


async def _on_rate_limited(_: Request, exc: Exception) -> JSONResponse:
    retry = exc.retry_after_s if isinstance(exc, RateLimited) else 60
    response = _json(429, "rate_limited", str(exc))
    response.headers["Retry-After"] = str(retry)
    return response


async def _on_solver(_: Request, exc: Exception) -> JSONResponse:
    response = _json(503, "solver_unavailable", str(exc))
    response.headers["Retry-After"] = "30"
    return response


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def wants_html(path: str, accept: str) -> bool:
    """Whether an error answer should be an HTML page: a browser's request for a page."""
    return "text/html" in accept and not path.startswith(("/v1/", "/static/"))


_PAGE_ERRORS = {
    401: (N_("Please log in"), N_("This page needs you to log in first.")),
    403: (N_("Not allowed"), N_("Your role may not open this page.")),
    404: (N_("Page not found"), N_("There is no page at this address. Check the link.")),
    405: (N_("Not allowed"), N_("This page cannot be used that way.")),
}
_PAGE_ERROR_OTHER = (N_("Something went wrong"), N_("buuta could not answer this request."))


def _html_error(status: int) -> Response:
    from api.pages import error_page  # noqa: PLC0415 (the pages import this module's callers)

    heading, message = _PAGE_ERRORS.get(status, _PAGE_ERROR_OTHER)
    return error_page(status, gettext(heading), gettext(message))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if wants_html(request.url.path, request.headers.get("accept", "")):
        page = _html_error(exc.status_code)
        for key, value in (exc.headers or {}).items():
            page.headers[key] = value
        return page
    message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    response = _json(exc.status_code, _HTTP_CODES.get(exc.status_code, "error"), message)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


INTERNAL_MESSAGE = "buuta could not answer this request; the error was logged"


def log_unexpected(method: str, path: str, exc: BaseException) -> None:
    """Log an unexpected error: its type, the route and the stack, never its message.

    The message of an exception may carry request values (names, phone numbers); the stack
    (files, lines, functions) is what an operator needs to find the bug.
    """
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s on %s %s\n%s", type(exc).__name__, method, path, stack.rstrip())


class CatchUnexpected:
    """Outermost middleware: any exception a route lets escape becomes a 500 JSON answer.

    Starlette's own last-resort handler answers but then re-raises, and the server logs the
    exception with its message; this one answers, logs with :func:`log_unexpected`, and stops.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; turn an escaping exception into a 500 JSON answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log_unexpected(scope.get("method", "?"), scope.get("path", "?"), exc)
            if not started:
                await self._answer_500(scope)(scope, receive, send)

    @staticmethod
    def _answer_500(scope: Scope) -> Response:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if wants_html(scope.get("path", ""), headers.get("accept", "")):
            try:
                with use_locale(locale_of_scope(scope)):
                    return _html_error(500)
            except Exception as exc:  # the error page itself failed: fall back to JSON
                log_unexpected("render", "error page", exc)
        return _json(500, "internal", INTERNAL_MESSAGE)


def install_error_handlers(app: FastAPI) -> None:
    """Register every exception handler of buuta on ``app``, and :class:`CatchUnexpected`.

    Call it after adding the other middleware, so that :class:`CatchUnexpected` is outermost.

    Order matters only for subclasses: the most specific class wins in Starlette, so
    ``NotFound`` (a ``ValueError``) answers 404 even though ``ValueError`` answers 422.
    """
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestError, _on_value_error)
    app.add_exception_handler(SolveRejected, _on_value_error)
    app.add_exception_handler(InvalidInput, _on_value_error)
    app.add_exception_handler(NotFound, _on_not_found)
    app.add_exception_handler(Forbidden, _on_forbidden)
    app.add_exception_handler(Conflict, _on_conflict)
    app.add_exception_handler(PayloadTooLarge, _on_too_large)
    app.add_exception_handler(RateLimited, _on_rate_limited)
    app.add_exception_handler(SolverUnavailable, _on_solver)
    # Bad input found deep in geo/routing/tracking (e.g. a coordinate out of range) is a
    # ValueError naming the field: the client's mistake, not the server's.
    app.add_exception_handler(ValueError, _on_value_error)
    app.add_middleware(CatchUnexpected)
