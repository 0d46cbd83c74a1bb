"""The words people read for buuta's codes: one table, used by every page and every map.

The JSON API speaks in codes (``window_unreachable``, ``delivered``, ``handoff``); a page or a map
never shows a code where a person reads it, but the words of this module, in the request's
language (:mod:`api.i18n`). The Vietnamese is in the message catalogue and follows
``docs/glossary.md``. An unknown code (one added later to the API) is shown as it is, so nothing
is hidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from api.i18n import N_, current_locale, gettext, pgettext

__all__ = [
    "REASONS",
    "ROLES",
    "SCANS",
    "SITE_KINDS",
    "SLOT_REASONS",
    "STATUSES",
    "STOP_TYPES",
    "custodian_words",
    "detail_words",
    "plan_status_words",
    "reason_words",
    "role_words",
    "scan_words",
    "site_kind_words",
    "slot_words",
    "status_explanation",
    "status_words",
    "stop_type_words",
]

REASONS = {
    "unknown_site": N_("The hand-off or origin office is not in the list of sites"),
    "window_outside_shifts": N_("The citizen's booked time is outside every courier's shift"),
    "window_unreachable": N_("Cannot reach the citizen within the booked time"),
    "ready_after_window": N_("The result is ready only after the citizen's booked time"),
    "over_capacity": N_("No courier can carry this many dossiers"),
    "missing_skill": N_("No courier can go there (e.g. a boat is needed)"),
    "no_courier": N_("No courier is on duty"),
    "site_closed": N_("The office is closed at that time"),
    "no_time": N_("Not enough courier time left today"),
    "cancelled": N_("Cancelled"),
    "unknown": N_("Reason not given"),
}
"""Why a job is unassigned (``routing`` reason codes), in a dispatcher's words."""

SLOT_REASONS = {
    "window_unreachable": N_("no courier can reach the home within this window"),
    "later_stop_late": N_("the courier would be late for a citizen already booked"),
    "shift_end": N_("the courier's shift would end first"),
    "capacity": N_("the courier's bag is full"),
    "no_collect": N_("the result is not collected at the office before this window"),
    "handoff_closed": N_("the hand-over office would be closed"),
    "no_route": N_("no courier works at this time"),
}
"""Why a window cannot be booked (``GET /v1/slots`` reason codes), as the hotline says it."""

STATUSES = {
    "requested": (N_("Awaiting pickup"), N_("Booked by the citizen; not yet collected.")),
    "collected": (N_("Collected"), N_("The courier has collected the dossier at the home.")),
    "at_hub": (N_("At the post office"), N_("At a post office, waiting for the shuttle.")),
    "on_shuttle": (
        N_("On the shuttle"),
        N_("On the inter-agency shuttle to the centre or department."),
    ),
    "received": (N_("Received"), N_("Received by the centre or department.")),
    "processing": (N_("Being processed"), N_("The agency is still working on the result.")),
    "result_ready": (N_("Result ready"), N_("The result is ready at the agency.")),
    "out_for_delivery": (
        N_("Out for delivery"),
        N_("A courier is taking the result to the citizen."),
    ),
    "delivered": (N_("Result returned"), N_("Handed to the citizen after an identity check.")),
    "delivery_failed": (
        N_("Delivery failed"),
        N_("An attempt to return the result failed; the courier still holds it."),
    ),
    "returned": (
        N_("Sent back to the agency"),
        N_("Given back to the agency after failed attempts."),
    ),
}
"""A dossier's status (``tracking`` life cycle): a short name and one sentence explaining it."""

SCANS = {
    "collected": N_("Collected from the citizen"),
    "at_hub": N_("Handed over at the post office"),
    "on_shuttle": N_("Put on the shuttle"),
    "received": N_("Received by the agency"),
    "result_ready": N_("Result ready"),
    "out_for_delivery": N_("Out for delivery"),
    "delivered": N_("Result returned to the citizen"),
    "delivery_failed": N_("Delivery failed"),
    "returned": N_("Sent back to the agency"),
}
"""What a scan event records (DESIGN §5 types), as a line of a dossier's journey."""

STOP_TYPES = {
    "start": N_("Start"),
    "pickup": N_("Pickup at home"),
    "handoff": N_("Hand-over at the office"),
    "collect": N_("Collect results"),
    "delivery": N_("Return to home"),
    "break": N_("Break"),
    "end": N_("End"),
}
"""The kinds of stop of a route (DESIGN §4)."""

SITE_KINDS = {
    "centre": N_("Public Administrative Service Centre"),
    "post_office": N_("Post office"),
    "one_stop": N_("One-stop office"),
    "department": N_("Department"),
}
"""The kinds of site (DESIGN §4)."""

ROLES = {
    "admin": N_("Administrator"),
    "dispatcher": N_("Dispatcher"),
    "courier": N_("Courier"),
    "staff": N_("Centre staff"),
}
"""buuta's roles, as a person is named by their job."""


def words_of(table: Mapping[str, str], code: str | None) -> str:
    """A code in words from one of the tables here (or a page's own), the code itself if new."""
    if code is None:
        return ""
    return gettext(table[code]) if code in table else str(code)


def reason_words(code: str | None) -> str:
    """Why a job is unassigned, in a dispatcher's words (``window_unreachable`` → a sentence)."""
    return words_of(REASONS, code or "unknown")


def slot_words(available: bool, reason: str | None) -> str:
    """A bookable window in the hotline's words: free, or full and why (``GET /v1/slots``)."""
    if available:
        return gettext("free to book")
    return gettext("full: %(reason)s", reason=words_of(SLOT_REASONS, reason or "no_route"))


def status_words(code: str | None) -> str:
    """A dossier status's short name."""
    if code in STATUSES:
        return gettext(STATUSES[code][0])
    return "" if code is None else str(code)


def status_explanation(code: str | None) -> str:
    """One sentence explaining a dossier status (empty for an unknown code)."""
    return gettext(STATUSES[code][1]) if code in STATUSES else ""


def scan_words(code: str | None) -> str:
    """What a scan event records, as a journey line."""
    return words_of(SCANS, code)


def stop_type_words(code: str | None) -> str:
    """The name of a kind of stop."""
    return words_of(STOP_TYPES, code)


def site_kind_words(code: str | None) -> str:
    """The name of a kind of site (unknown kinds read as their code without underscores)."""
    if code in SITE_KINDS:
        return gettext(SITE_KINDS[code])
    return "" if code is None else str(code).replace("_", " ")


def role_words(code: str | None) -> str:
    """The name of a role."""
    return words_of(ROLES, code)


def plan_status_words(code: str | None) -> str:
    """A plan's status (``complete``: every job served; ``partial``: some unassigned)."""
    if code == "complete":
        return pgettext("plan status", "complete")
    if code == "partial":
        return pgettext("plan status", "partial")
    return "" if code is None else str(code)


def custodian_words(code: str | None, site_names: dict[str, str] | None = None) -> str:
    """Who holds a dossier (``courier:c1``, ``site:po-tvt``, ``shuttle:centre``, ``citizen``)."""
    if not code:
        return ""
    kind, _, who = str(code).partition(":")
    place = (site_names or {}).get(who) or who
    if kind == "courier":
        return gettext("Courier %(name)s", name=who)
    if kind == "site":
        return place
    if kind == "shuttle":
        return gettext("Shuttle from %(place)s", place=place)
    if kind == "citizen":
        return gettext("The citizen")
    return str(code)


_TIME = r"(?P<time>\d{2}:\d{2})"
_WINDOW = r"(?P<window>\d{2}:\d{2}–\d{2}:\d{2})"
DETAILS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (
            rf"The earliest any able courier can be at the home is {_TIME}, after the window "
            rf"{_WINDOW} closes\.",
            N_("The earliest a courier can reach the home is %(time)s, after the booked time "
               "%(window)s."),
        ),
        (
            rf"No able courier can serve the window {_WINDOW} and still reach (?P<site>.+) and "
            r"the end of their shift in time\.",
            N_("No courier can come at the booked time %(window)s and still reach %(site)s "
               "before the end of their shift."),
        ),
        (
            rf"No courier could fit it among the other jobs: the couriers' time and capacity are "
            rf"used up around its window {_WINDOW}\.",
            N_("The couriers' time and bags are already taken around the booked time "
               "%(window)s."),
        ),
        (
            rf"Its window {_WINDOW} lies outside every shift \((?P<shifts>.+)\)\.",
            N_("The booked time %(window)s is outside every shift (%(shifts)s)."),
        ),
        (
            rf"It is ready at (?P<site>.+) only at {_TIME}, after the citizen's window "
            rf"{_WINDOW} closes\.",
            N_("The result is ready at %(site)s only at %(time)s, after the booked time "
               "%(window)s."),
        ),
        (
            r"Its size (?P<size>\d+) exceeds every able courier's capacity \(largest "
            r"(?P<cap>\d+)\)\.",
            N_("It is %(size)s dossiers; the most a courier can carry is %(cap)s."),
        ),
        (
            r"It needs the skill\(s\) (?P<skills>.+), which no courier has\.",
            N_("It needs %(skills)s, which no courier has."),
        ),
        (
            rf"(?P<site>.+) closes at {_TIME}, before the result is ready there "
            r"\((?P<ready>\d{2}:\d{2})\)\.",
            N_("%(site)s closes at %(time)s, before the result is ready there (%(ready)s)."),
        ),
        (
            r"(?P<site>.+) is open (?P<hours>\d{2}:\d{2}–\d{2}:\d{2}); no courier can be there "
            rf"in that time for this job \(window {_WINDOW}\)\.",
            N_("%(site)s is open %(hours)s; no courier can be there then for this request "
               "(booked %(window)s)."),
        ),
    )
)  # fmt: skip
"""The optimizer's English details of an unassigned job (``routing.dossiers``; a job the solver
left out, ``routing.planner``), read back into their facts and said in the page's language;
``tests/i18n`` checks the patterns still match the sentences the optimizer writes."""


SKILLS = {"boat": N_("a boat")}
"""Courier skills a job may need (sample days use ``boat`` for hamlets reached by water)."""


def detail_words(detail: str | None, site_names: Mapping[str, str] | None = None) -> str:
    """The optimizer's detail of an unassigned job, in the current language.

    English pages show the detail as written; other languages get it only when it is one of the
    known sentences of :data:`DETAILS` (an unknown one is left out rather than shown in English).
    Site ids in it are replaced by the sites' names from ``site_names``, skills by their words.
    """
    if not detail:
        return ""
    if current_locale() == "en":
        return detail
    for pattern, words in DETAILS:
        match = pattern.fullmatch(detail.strip())
        if match:
            facts = match.groupdict()
            if "site" in facts:
                facts["site"] = (site_names or {}).get(facts["site"], facts["site"])
            if "skills" in facts:
                facts["skills"] = ", ".join(
                    gettext(SKILLS[k]) if k in SKILLS else k for k in facts["skills"].split(", ")
                )
            return gettext(words, **facts)
    return ""
