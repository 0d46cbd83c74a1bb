"""Limits on the public lookup, counted in the database so that every API process counts together.

Two limits guard ``GET /v1/track/{code}`` (and the pages that look a dossier up the same way):

- per **client address**: at most ``track_lookups_per_minute`` lookups a minute;
- per **dossier code**: at most ``track_failures_per_code`` lookups with wrong phone digits in
  ``track_code_window_s``; past it every lookup of that code is refused for a while, so guesses
  spread over many addresses stop too.

The client address is the peer of the connection. ``X-Forwarded-For`` is believed only when the
peer is one of the configured proxies (``BUUTA_TRUSTED_PROXIES``, addresses or networks; none by
default): the client is then the right-most address of the header that is not a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from sqlmodel import Session
from starlette.requests import Request

from api.errors import RateLimited
from api.settings import Settings
from tracking.attempts import count_attempt, recent_attempts

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ADDRESS_BUCKET = "track_address"
CODE_BUCKET = "track_code"


def trusted_networks(entries: Iterable[str]) -> list[Network]:
    """Parse the configured proxies (``10.0.0.5``, ``10.0.0.0/8``, ``::1``) into networks."""
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def _is_trusted(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, proxies: list[Network]) -> str:
    """Return the address of the client that made ``request``.

    The connection's peer, unless it is a trusted proxy: then the right-most address of
    ``X-Forwarded-For`` that is not itself a trusted proxy (addresses left of it could be made
    up by the client).
    """
    peer = request.client.host if request.client else "unknown"
    if not proxies or not _is_trusted(peer, proxies):
        return peer
    chain = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([h for h in chain if h]):
        if not _is_trusted(hop, proxies):
            return hop
    return peer


def _key(code: str) -> str:
    # Codes are looked up as stored; a case or space variant must not be a fresh budget.
    return "".join(code.split()).upper()


def check_lookup(*, request: Request, session: Session, settings: Settings, code: str) -> None:
    """Count a public lookup of ``code`` and refuse it when a limit is reached.

    Raises
    ------
    RateLimited
        If the client's address made too many lookups in the last minute, or the code had too
        many lookups with wrong digits in its window (whoever asks).
    """
    proxies = trusted_networks(settings.proxy_list())
    address = client_address(request, proxies)
    mine = count_attempt(session=session, bucket=ADDRESS_BUCKET, key=address, window_s=60)
    limit = settings.track_lookups_per_minute
    if mine.over(limit):
        msg = f"too many tracking lookups from this address: at most {limit} per 60 s"
        raise RateLimited(msg, retry_after_s=mine.retry_after_s(limit))
    window = settings.track_code_window_s
    wrong = recent_attempts(session=session, bucket=CODE_BUCKET, key=_key(code), window_s=window)
    per_code = settings.track_failures_per_code
    if wrong.recent >= per_code:
        msg = (
            f"this dossier code had too many lookups with wrong phone digits (at most {per_code} "
            f"per {window} s); it can be looked up again later"
        )
        raise RateLimited(msg, retry_after_s=wrong.retry_after_s(per_code))


def count_failed_lookup(*, session: Session, settings: Settings, code: str) -> None:
    """Count a lookup of ``code`` that found nothing (wrong digits or no such dossier)."""
    count_attempt(
        session=session, bucket=CODE_BUCKET, key=_key(code), window_s=settings.track_code_window_s
    )
