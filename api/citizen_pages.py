"""The citizen's page ``/tra-cuu``: where is my dossier, with no log-in.

A citizen types the dossier code from the receipt and the last 4 digits of the phone number
given with it; the answer says the status, the next step and its expected time in words, the
result's due and promised dates, and where the dossier is at site level: nothing personal
(no name, phone, ID number, address or coordinates), exactly what :func:`tracking.public_track`
returns. An unknown code and wrong digits get the same page, the same status (404) and the same
work (:func:`tracking.public_track` spends the same hashing time on both). Every look-up counts
against the same limit as ``GET /v1/track/{code}`` (:func:`api.routes.track.count_lookup`).

The page is plain HTML with the pages' one small style sheet: no map, no script, so it loads on
a cheap phone over a slow connection. The form posts, so the phone digits never sit in a URL,
a browser history or a proxy's log.

``POST /tra-cuu/ngung-tin-nhan`` (the same code and digits, the same limit) stops the text
messages about the dossier (:func:`tracking.outbox.opt_out`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.errors import RateLimited
from api.i18n import N_
from api.i18n import gettext as _
from api.page_render import render
from api.routes.track import count_lookup, count_wrong_lookup
from routing.clock import parse_plan_time
from tracking.models import Dossier, utcnow
from tracking.outbox import opt_out
from tracking.search import find_dossier, normalise_code
from tracking.views import public_track

__all__ = ["NEXT_STEPS", "PLACES", "router"]

router = APIRouter(include_in_schema=False, tags=["pages"])

MAX_CODE_CHARS = 64
"""A dossier code is at most this long (the column's width)."""

NEXT_STEPS = {
    "collected": N_("A courier comes to your home to collect the dossier"),
    "at_hub": N_("The courier hands your dossier over at the post office"),
    "on_shuttle": N_("Your dossier leaves on the shuttle"),
    "received": N_("Your dossier reaches the agency"),
    "result_ready": N_("The agency finishes your result"),
    "out_for_delivery": N_("A courier sets out with your result"),
    "delivered": N_("The courier brings the result to your home"),
}
"""The next step of a dossier (``next_step`` of the look-up), as the citizen reads it."""

PLACES = {
    "shuttle": N_("On the shuttle"),
    "courier": N_("With the courier"),
    "citizen": N_("Handed to you"),
}
"""Where a dossier is when it is not at a site (``place.kind`` of the look-up)."""


def _form(body: bytes) -> tuple[str, str]:
    fields = parse_qs(body.decode("utf-8", errors="replace"))
    code = normalise_code((fields.get("code") or [""])[0])
    digits = "".join((fields.get("phone_last4") or [""])[0].split())
    return code, digits


def _problems(code: str, digits: str) -> list[str]:
    problems = []
    if not code or len(code) > MAX_CODE_CHARS:
        problems.append(_("Dossier code: type the code printed on your receipt."))
    if not (len(digits) == 4 and digits.isascii() and digits.isdigit()):
        problems.append(_("Phone digits: type the last 4 digits of your phone number."))
    return problems


def _answer_words(view: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What the answer page says, from the public view (nothing else is read)."""
    place = view.get("place") or {}
    kind = place.get("kind")
    where = place.get("name") if kind == "site" else None
    if kind in PLACES:
        where = _(PLACES[kind])
    step = view.get("next_step")
    expected = parse_plan_time(view.get("expected"))
    return {
        "code": view["code"],
        "status": view["status"],
        "where": where or "",
        "next": _(NEXT_STEPS[step]) if step in NEXT_STEPS else "",
        "expected": expected,
        "expected_today": expected is not None
        and expected.astimezone(now.tzinfo).date() == now.date(),
        "late": bool(view.get("late")),
        "updated_at": view.get("updated_at"),
        "due_date": view.get("due_date"),
        "promised_date": view.get("promised_date"),
    }


def _page(status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("code", "")
    context.setdefault("problems", [])
    context.setdefault("answer", None)
    context.setdefault("not_found", False)
    context.setdefault("retry_after_s", None)
    context.setdefault("digits", "")
    context.setdefault("stopped", False)
    headers = {}
    if context["retry_after_s"]:
        headers["Retry-After"] = str(context["retry_after_s"])
    return render(
        "tra_cuu.html",
        status=status,
        headers=headers,
        title=_("Look up a dossier"),
        body_class="lookup-page",
        **context,
    )


@router.get("/tra-cuu", response_class=HTMLResponse)
def lookup_form() -> HTMLResponse:
    """The look-up form: the dossier code and the last 4 digits of the phone."""
    return _page()


def _look_up(
    request: Request, session: Session, code: str, digits: str, now: datetime
) -> tuple[Dossier | None, dict[str, Any] | None]:
    """The dossier and its public view, or a miss; the one look-up of both forms.

    Counted against the public look-up limits before it is made (:class:`RateLimited` past
    them); a miss (an unknown code or wrong digits, told apart by nobody) counts against the
    code too.
    """
    found = find_dossier(session=session, code=code, scan=False)
    known = found.code if found else code
    count_lookup(request, session, known)
    view = public_track(session=session, code=known, phone_last4=digits, now=now)
    if view is None:
        count_wrong_lookup(request, session, known)
    return found, view


def _answer_lookup(request: Request, code: str, digits: str) -> HTMLResponse:
    problems = _problems(code, digits)
    if problems:
        return _page(422, code=code[:MAX_CODE_CHARS], problems=problems)
    now = utcnow()
    try:
        with Session(request.app.state.engine) as session:
            _, view = _look_up(request, session, code, digits, now)
    except RateLimited as exc:
        return _page(429, code=code, retry_after_s=exc.retry_after_s)
    if view is None:
        # The same words and status for an unknown code and for wrong digits.
        return _page(404, code=code, not_found=True)
    return _page(answer=_answer_words(view, now), code=view["code"], digits=digits)


def _answer_stop_messages(request: Request, code: str, digits: str) -> HTMLResponse:
    problems = _problems(code, digits)
    if problems:
        return _page(422, code=code[:MAX_CODE_CHARS], problems=problems)
    now = utcnow()
    try:
        with Session(request.app.state.engine) as session:
            found, view = _look_up(request, session, code, digits, now)
            if view is None or found is None or found.id is None:
                return _page(404, code=code, not_found=True)
            opt_out(session=session, dossier_id=found.id, now=now)
    except RateLimited as exc:
        return _page(429, code=code, retry_after_s=exc.retry_after_s)
    return _page(code=view["code"], stopped=True)


@router.post("/tra-cuu", response_class=HTMLResponse)
async def lookup(request: Request) -> HTMLResponse:
    """Answer a citizen's look-up (counted against the public look-up limit)."""
    code, digits = _form(await request.body())
    # The hashing and the database work run off the event loop, so no look-up holds others.
    return await run_in_threadpool(_answer_lookup, request, code, digits)


@router.post("/tra-cuu/ngung-tin-nhan", response_class=HTMLResponse)
async def stop_messages(request: Request) -> HTMLResponse:
    """Stop the messages about a dossier (the same code and digits as a look-up, same limit)."""
    code, digits = _form(await request.body())
    return await run_in_threadpool(_answer_stop_messages, request, code, digits)
