"""The dispatcher's planning console on ``/dispatch``: plan the day, review a draft, publish.

The dispatch page shows the day's published plan by default. A dispatcher plans the day from
the book (a button with a progress bar, see ``api/static/dispatch.js``) or re-plans it; either
makes a draft, shown for review with what it changes against the published plan and the
promises it breaks, in words, before it is published or discarded. This module turns a
:class:`api.review.Review` and the day's book into the page's context.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, func, select

from api.i18n import N_
from api.review import Review
from api.words import reason_words, words_of
from routing.clock import LOCAL_TZ
from tracking.models import BookedRequest

__all__ = ["CHANGES", "STATES", "VIOLATIONS", "open_requests", "review_context", "state_words"]

PLAN_TIME_LIMITS_S = (5, 10, 30, 60)
"""The search times a dispatcher may choose for planning the day, in seconds."""

STATES = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "superseded": N_("Replaced"),
}
"""A stored plan's state, as the console names it."""

CHANGES = {
    "dropped": N_("Dropped"),
    "moved": N_("Moved"),
    "retimed": N_("New time"),
    "added": N_("Added"),
}
"""What a draft changes for a job."""

VIOLATIONS = {
    "window": N_("Outside the citizen's booked time"),
    "late_declared": N_("A result delivered late (its time was already lost)"),
    "shift": N_("Outside the courier's shift"),
    "break": N_("The courier's break is missing or misplaced"),
    "capacity": N_("More dossiers than the courier can carry"),
    "load": N_("The courier's load does not add up"),
    "precedence": N_("A dossier's two stops are out of order"),
    "cutoff": N_("Handed over after the shuttle's cut-off"),
    "wrong_run": N_("Handed over for the wrong shuttle run"),
    "ready": N_("A result collected before it is ready"),
    "opening": N_("At an office outside its opening hours"),
    "skill": N_("A courier without the skill the stop needs"),
    "job_missing": N_("A request is neither planned nor listed as not planned"),
    "job_duplicated": N_("A request is planned twice"),
    "unknown_job": N_("The plan names an unknown request"),
    "wrong_site": N_("A stop at the wrong office"),
    "location": N_("A home visit at the wrong place"),
    "travel": N_("Not enough time to travel between two stops"),
    "distance": N_("A route's distance does not add up"),
    "service": N_("A stop's service time does not add up"),
    "time_order": N_("Times go backwards"),
    "malformed": N_("The plan cannot be read"),
    "unassigned_reason": N_("A request not planned has no reason"),
    "status": N_("The plan's status is wrong"),
    "kpi": N_("The plan's figures do not add up"),
    "personal_data": N_("A citizen's personal data was copied into the plan"),
}
"""The independent checker's violation codes (``routing.checker.CODES``), as promises broken."""


def state_words(code: str | None) -> str:
    """A plan's state (``draft``, ``published``, ``superseded``) in the page's language."""
    return words_of(STATES, code)


def _hhmm(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M") if moment is not None else ""


def open_requests(session: Session, day: str) -> int:
    """How many of the day's requests in the book are open (waiting to be planned)."""
    stmt = select(func.count()).where(BookedRequest.date == day, BookedRequest.status == "open")
    return int(session.exec(stmt).one())


def _change_rows(review: Review, detail: Callable[[str | None], str]) -> list[dict[str, Any]]:
    rows = []
    for change in review.diff.changes:
        rows.append(
            {
                "job": change.job,
                "dossier": review.dossiers.get(change.job, ""),
                "change": change.change,
                "words": words_of(CHANGES, change.change),
                "before": change.before or "",
                "after": change.after or "",
                "before_time": _hhmm(change.before_start),
                "after_time": _hhmm(change.after_start),
                "minutes": change.minutes,
                "reason": reason_words(change.reason) if change.reason != "not_in_draft" else "",
                "not_in_draft": change.reason == "not_in_draft",
                "detail": detail(change.detail) if change.detail else "",
            }
        )
    return rows


def review_context(review: Review, detail: Callable[[str | None], str]) -> dict[str, Any]:
    """The review of a draft for the dispatch page, in words.

    Parameters
    ----------
    review
        The draft against the published plan (:func:`api.review.draft_review`).
    detail
        Turns an optimizer's detail sentence into the page's language
        (:func:`api.words.detail_words` with the day's site names).
    """
    kpis = {
        name: {"published": k.published, "draft": k.draft, "delta": k.delta}
        for name, k in review.diff.kpis.items()
    }
    counts = {kind: review.diff.count(kind) for kind in CHANGES}
    violations = [
        {"code": v.code, "words": words_of(VIOLATIONS, v.code), "detail": v.detail,
         "courier": v.courier or "", "job": v.job or ""}
        for v in review.violations
    ]  # fmt: skip
    return {
        "against": review.against.id if review.against is not None else None,
        "changes": _change_rows(review, detail),
        "counts": counts,
        "kpis": kpis,
        "violations": violations,
        "served_before": kpis["served"]["published"],
    }
