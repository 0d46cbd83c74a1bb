"""Refuse cross-site forms: state-changing requests that ride on the pages' session cookie.

A browser sends the ``buuta_token`` cookie with any request to buuta, whichever site made the
page that sends it; so a form on another site (or on another port of the same host) could make a
staff's browser issue a delivery code. :class:`SameOriginForms` checks, for every ``POST``,
``PUT``, ``PATCH`` and ``DELETE`` that carries the cookie and no ``Authorization`` header, and for
``/login`` always (a forged log-in would put a victim in the attacker's account), that the
request comes from buuta's own pages:

1. ``Sec-Fetch-Site`` (sent by current browsers): ``same-origin`` or ``none`` (typed by the user)
   passes; ``same-site`` and ``cross-site`` pass only from an allowed origin;
2. else ``Origin``: it must be the server's own (its host and port are the ``Host`` header's)
   or one of ``BUUTA_ALLOWED_ORIGINS``; ``Origin: null`` (sandboxed frames) never passes;
3. else ``Referer``: the same check on its origin;
4. a request with none of the three was not made by a browser (curl, a script), and a cross-site
   forgery needs a browser: it passes.

This is the OWASP "verifying origin with standard headers" defence with Fetch Metadata first.
Calls with ``Authorization: Bearer`` are not affected (a browser never adds that header on its
own), and the pages' own JavaScript keeps working: a same-origin ``fetch`` sends
``Sec-Fetch-Site: same-origin`` and its ``Origin``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ALWAYS_CHECKED = frozenset({"/login"})
"""Paths checked even without the cookie."""


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class SameOriginForms:
    """ASGI middleware answering 403 to cross-site requests made with the session cookie.

    Parameters
    ----------
    app
        The wrapped ASGI application.
    cookie
        The name of the session cookie (``buuta_token``).
    allowed_origins
        Origins besides the server's own whose pages may post (``https://buuta.example.vn``).
    """

    def __init__(self, app: ASGIApp, *, cookie: str, allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.cookie = cookie.encode()
        self.allowed = {o for o in (_origin_of(a) for a in allowed_origins) if o is not None}

    def _needs_check(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        if scope["type"] != "http" or scope.get("method", "GET") not in UNSAFE_METHODS:
            return False
        if scope.get("path", "") in ALWAYS_CHECKED:
            return True
        auth = headers.get(b"authorization", b"")
        if auth[:7].lower() == b"bearer " and auth[7:].strip():
            return False
        cookies = headers.get(b"cookie", b"")
        return any(part.strip().startswith(self.cookie + b"=") for part in cookies.split(b";"))

    def _allowed(self, origin: str | None, host: bytes) -> bool:
        if origin is None:
            return False
        if origin in self.allowed:
            return True
        own = host.decode("latin-1").strip().lower()
        return bool(own) and urlsplit(origin).netloc == own

    def refusal(self, headers: dict[bytes, bytes]) -> str | None:
        """Return why the request is refused as cross-site, or ``None`` if it may pass."""
        host = headers.get(b"host", b"")
        fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1").strip().lower()
        origin_header = headers.get(b"origin")
        origin = None if origin_header is None else _origin_of(origin_header.decode("latin-1"))
        referer = headers.get(b"referer")
        if origin is None and referer is not None:
            origin = _origin_of(referer.decode("latin-1"))
        if fetch_site in ("same-origin", "none"):
            return None
        if fetch_site in ("same-site", "cross-site"):
            return None if origin in self.allowed else "it was sent from another site's page"
        if origin_header is not None or referer is not None:
            return None if self._allowed(origin, host) else "its Origin is not this server's"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 403 if it is a cross-site form riding on the cookie."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        reason = self._refusal_if_checked(scope, headers)
        if reason is None:
            await self.app(scope, receive, send)
            return
        message = (
            f"cross-site request refused: {reason}; post from buuta's own pages, or call the API "
            "with 'Authorization: Bearer <token>'"
        )
        refusal = JSONResponse(
            error_body("forbidden", message),
            status_code=403,
            headers={"vary": "Origin, Sec-Fetch-Site"},
        )
        await refusal(scope, receive, send)

    def _refusal_if_checked(self, scope: Scope, headers: dict[bytes, bytes]) -> str | None:
        return self.refusal(headers) if self._needs_check(scope, headers) else None
