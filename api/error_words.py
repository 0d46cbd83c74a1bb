"""The request book's error sentences in the page's language (DESIGN §11).

The JSON API answers in English sentences (``give an address, or lat and lon``; pydantic's
``Field required``; the planner's ``couriers[0].shift: ends at 08:00 before it starts at
17:00.``). The pages of the request book and the roster show the very errors that API gives,
next to their field, so they are read back here into their facts and said in the page's
language, as :func:`api.words.detail_words` does for the optimizer's details. English pages show
the sentence as written; a sentence not in :data:`PATTERNS` is said as "this value is not
accepted" rather than shown in English.
"""

from __future__ import annotations

import re

from api.i18n import N_, current_locale, gettext

__all__ = ["PATTERNS", "error_words"]

_Q = r"'?(?P<value>.*?)'?"
_HEADER_NAMES = re.compile(r"\(([^)]+)\)")

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.DOTALL), words)
    for pattern, words in (
        # the book (tracking.requests, api.routes.requests)
        (r"expected a calendar date as YYYY-MM-DD", N_("Not a day: write it as dd/mm/yyyy.")),
        (r"give both lat and lon, or neither", N_("Give both latitude and longitude, or neither.")),
        (
            r"give an address, or lat and lon",
            N_("Give an address, or a point (latitude and longitude)."),
        ),
        (
            r"a pickup needs the site where it is handed over",
            N_("A pickup needs the office where the dossier is handed over."),
        ),
        (
            r"a return needs the site where the result is collected",
            N_("A return needs the office where the result is collected."),
        ),
        (
            r"no commune, ward or district of the service area matches this address",
            N_("No commune, ward or district of the service area matches this address."),
        ),
        (r"a phone number needs at least 4 digits", N_("A phone number needs at least 4 digits.")),
        (r"a citizen ID has 9 or 12 digits", N_("A citizen ID number has 9 or 12 digits.")),
        (
            r"request (?P<id>.+) is (?P<status>\w+): "
            r"only an open request can be (changed|cancelled|moved)",
            N_("Request %(id)s is no longer open: it cannot be changed."),
        ),
        (
            r"expected a time of the request's day as HH:MM.*",
            N_("Not a time: write it as HH:MM (24 hours)."),
        ),
        (r"the window must close after it opens", N_("The window must end after it starts.")),
        (r"not a calendar date.*", N_("Not a day: write it as dd/mm/yyyy.")),
        (
            r"a plan's date must lie between (?P<first>\S+) and (?P<last>\S+).*",
            N_("The day must lie within a year of today."),
        ),
        # the bookable windows (api.routes.slots), after the field's name
        (
            r"\S+ has no plan and no roster is stored.*",
            N_(
                "This day has no plan and no couriers are stored: enter them on the page of "
                "couriers, offices and shuttles first."
            ),
        ),
        (
            r"unknown site; it is not a site of the day's plan or roster",
            N_("This office is not one of the day's plan or of the list of offices."),
        ),
        (
            r"missing; give the site where the dossier is handed over or collected",
            N_("Choose the office where the dossier is handed over or the result collected."),
        ),
        (
            r"the home \(lat, lon\) lies outside Vietnam",
            N_("This point lies outside Vietnam: check the latitude and the longitude."),
        ),
        # pydantic's sentences (the shape of a request or of the roster)
        (r"Field required", N_("Required.")),
        (r"Input should be a valid number.*", N_("Must be a number.")),
        (r"Input should be a valid integer.*", N_("Must be a whole number.")),
        (r"Input should be a finite number", N_("Must be a number.")),
        (
            r"Input should be greater than or equal to (?P<limit>\S+)",
            N_("Must be at least %(limit)s."),
        ),
        (r"Input should be greater than (?P<limit>\S+)", N_("Must be more than %(limit)s.")),
        (r"Input should be less than or equal to (?P<limit>\S+)", N_("Must be at most %(limit)s.")),
        (r"Input should be 'pickup' or 'return'", N_("Choose pickup or return.")),
        # A form's or a sheet's cell is text or nothing: "not a string" means left empty.
        (r"Input should be a valid string", N_("Required.")),
        (r"String should have at least 1 character", N_("Required.")),
        (
            r"String should have at most (?P<limit>\d+) characters?",
            N_("At most %(limit)s characters."),
        ),
        (r"String should match pattern .*", N_("Not in the expected form.")),
        (r"List should have at (least|most) 2 items.*", N_("Give both the start and the end.")),
        (r"Extra inputs are not permitted", N_("Not a field of a request.")),
        # the planner's checks (routing.request), after the field's name
        (r"is missing\.?", N_("Required.")),
        (r"must be a non-empty text.*", N_("Required.")),
        (r"must be a number.*|must be a finite number.*", N_("Must be a number.")),
        (r"must be a whole number.*", N_("Must be a whole number.")),
        (r"must be ≥ (?P<limit>\S+), got .*", N_("Must be at least %(limit)s.")),
        (
            r"must be a time like '08:00'.*|is not a time of day.*|is not an ISO datetime.*",
            N_("Not a time: write it as HH:MM (24 hours)."),
        ),
        (r"must be \[start, end\].*", N_("Give both the start and the end.")),
        (
            r"ends at (?P<end>\S+) before it starts at (?P<start>\S+?)\.?",
            N_("Ends at %(end)s, before it starts at %(start)s."),
        ),
        (
            r"is before the run departs \((?P<departs>[^)]*)\)\.?",
            N_("Arrives before the run departs (%(departs)s)."),
        ),
        (r"unknown site " + _Q + r"\.?", N_("No site %(value)s in the list of sites.")),
        (r"unknown travel mode.*", N_("Choose a way of travelling from the list.")),
        (r"must be more than 0 minutes\.?", N_("Must be more than 0 minutes.")),
        (
            r"a (?P<minutes>\d+)-minute break does not fit between (?P<earliest>\S+) and "
            r"(?P<latest>\S+) inside the shift (?P<shift>\S+?)\.?",
            N_(
                "A %(minutes)s-minute break does not fit between %(earliest)s and %(latest)s "
                "inside the shift %(shift)s."
            ),
        ),
        (
            r"duplicate (site|shuttle|courier) id " + _Q + r"\.?",
            N_("The id %(value)s is used twice."),
        ),
        # an import's file (api.request_import)
        (
            r"the file is neither an XLSX workbook nor CSV text in UTF-8.*",
            N_(
                "The file is neither an Excel workbook (XLSX) nor CSV text in UTF-8: "
                'save it as "CSV UTF-8" or XLSX.'
            ),
        ),
        (
            r"the header row has no column for: (?P<columns>.+)",
            N_("The header row has no column for: %(columns)s."),
        ),
        (
            r"the header names the column " + _Q + r" twice",
            N_("The header names the column %(value)s twice."),
        ),
        (r"the file is empty.*", N_("The file is empty: its first row must name the columns.")),
        (
            r"the XLSX workbook (cannot be opened|cannot be read|has no worksheet).*",
            N_("The Excel workbook cannot be read."),
        ),
        (r"the CSV text cannot be read.*", N_("The CSV text cannot be read.")),
        (
            r"a file may hold at most (?P<limit>\d+) rows.*",
            N_("A file may hold at most %(limit)s rows."),
        ),
    )
)
"""Each English error sentence of the book, the roster and the import, and its words."""


def error_words(message: str) -> str:
    """An error sentence of the JSON API, in the current language.

    Parameters
    ----------
    message
        The sentence (without the field's name: ``"give an address, or lat and lon"``).
    """
    text = message.strip()
    if current_locale() == "en":
        return text
    for pattern, words in PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            facts = match.groupdict()
            if facts.get("columns"):  # "id (Mã yêu cầu), kind (Loại)": the Vietnamese headers
                facts["columns"] = ", ".join(_HEADER_NAMES.findall(facts["columns"]))
            return gettext(words, **facts)
    return gettext("This value is not accepted.")
