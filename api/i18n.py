"""The language of buuta's pages: Vietnamese first, English on request (DESIGN §11).

Every word a dispatcher, courier, staff member or citizen reads goes through a Babel message
catalogue: the msgids are English, ``api/locale/vi/LC_MESSAGES/messages.po`` holds the Vietnamese,
and English is the msgids themselves. The ``.po`` is compiled in memory the first time a process
needs it (no ``.mo`` file is kept in the repository). The domain words follow the glossary in
``docs/glossary.md``.

Which language a request gets (:func:`locale_from`):

1. ``?lang=vi`` or ``?lang=en`` on any page (remembered in the ``buuta_lang`` cookie);
2. the ``buuta_lang`` cookie;
3. the browser's ``Accept-Language`` (the first of ``vi``/``en`` it names, by weight);
4. otherwise Vietnamese.

:class:`LanguageMiddleware` decides it once per request and keeps it in a context variable, so
:func:`gettext` and the template functions need no request argument: the pages, the maps of
:mod:`api.maps` and the error pages all speak the request's language. Outside a request (the
``buuta demo`` command, a notebook) the language is Vietnamese; :func:`use_locale` changes it
for a block.

How a page adds a string
------------------------

1. **In a template** write the English text through ``_``::

       <h1>{{ _("Dispatch") }} · {{ date|day }}</h1>
       <p>{{ _("%(served)s of %(jobs)s jobs served", served=s.served, jobs=s.jobs) }}</p>
       <p>{{ ngettext("%(num)s dossier", "%(num)s dossiers", n) }}</p>

   Variables are named and passed as keywords (never concatenated), so a translation can move
   them. A literal ``%`` is written ``%%``. Filters format values in the request's language:
   ``|day`` (``dd/mm/yyyy``), ``|hhmm`` (24-hour, Asia/Ho_Chi_Minh), ``|number``, ``|km``,
   ``|money`` (``13.000 ₫``).

2. **In Python** import the same functions::

       from api.i18n import gettext as _
       raise PageError(404, _("No such plan"), _("There is no plan %(plan)s.", plan=plan_id))

   A table built at import time marks its words with :func:`N_` (so they are extracted) and
   translates them when used: ``_(HEADINGS[kind])``. Two things hide a string from
   ``make messages``: a call inside an f-string (build the words first, then the f-string),
   and ``_`` reused as a throwaway variable in the same function (it then is no longer the
   function; where ``_`` is taken, as in :mod:`api.maps`, call ``gettext`` by name). Codes
   shown to people (reasons, statuses, roles, stop types) are turned into words by
   :mod:`api.words`, the one table used by every page and map. The JSON API never goes
   through this module: it keeps its English codes.

3. **Update the catalogue**: ``make messages`` extracts every string of ``api/**.py`` and
   ``api/templates/**.html`` (``babel.cfg``) and merges them into the ``.po``; then write the
   Vietnamese of each new entry (``msgstr``) in ``api/locale/vi/LC_MESSAGES/messages.po``, in
   the words of the glossary, and remove its ``#, fuzzy`` flag if ``make messages`` guessed.
   ``tests/i18n/test_catalogue.py`` fails while any entry has no Vietnamese or is fuzzy.
"""

from __future__ import annotations

import contextlib
import gettext as gettext_module
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jinja2
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages import mofile, pofile
from babel.support import Translations
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from routing.clock import LOCAL_TZ

__all__ = [
    "COOKIE",
    "DEFAULT_LOCALE",
    "LOCALES",
    "LOCALE_DIR",
    "N_",
    "LanguageMiddleware",
    "current_locale",
    "format_day",
    "format_hhmm",
    "format_km",
    "format_money",
    "format_number",
    "gettext",
    "language_links",
    "locale_from",
    "locale_of_scope",
    "ngettext",
    "pgettext",
    "template_environment",
    "translations",
    "use_locale",
]

LOCALES = ("vi", "en")
"""The languages of buuta's pages; the first is the default."""
DEFAULT_LOCALE = "vi"
SOURCE_LOCALE = "en"
"""The language of the msgids: it needs no catalogue."""
COOKIE = "buuta_lang"
"""The cookie that remembers a ``?lang=`` choice."""
COOKIE_MAX_AGE_S = 365 * 24 * 3600
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

_BABEL_LOCALE = {"vi": "vi_VN", "en": "en_GB"}
_DAY_PATTERN = "dd/MM/yyyy"  # DESIGN §11, in both languages: the service is Vietnamese

_locale: ContextVar[str] = ContextVar("buuta_locale", default=DEFAULT_LOCALE)
_here: ContextVar[tuple[str, str]] = ContextVar("buuta_here", default=("/", ""))


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Mark ``message`` for extraction without translating it (tables built at import time)."""
    return message


@cache
def translations(locale: str) -> gettext_module.NullTranslations:
    """The compiled catalogue of ``locale``, built from its ``.po`` once per process.

    Parameters
    ----------
    locale
        ``"vi"`` or ``"en"``; English (the msgids) has no catalogue.

    Returns
    -------
    gettext.NullTranslations
        A :class:`babel.support.Translations` for Vietnamese; a null catalogue for English.
        Fuzzy entries are left out, so an unchecked guess is never shown.
    """
    if locale == SOURCE_LOCALE:
        return gettext_module.NullTranslations()
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        catalog = pofile.read_po(source, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    mofile.write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


def current_locale() -> str:
    """The language of the current request (or of the :func:`use_locale` block)."""
    return _locale.get()


@contextlib.contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Speak ``locale`` inside the block (for scripts, the demo and tests).

    Raises
    ------
    ValueError
        If ``locale`` is not one of :data:`LOCALES`.
    """
    if locale not in LOCALES:
        msg = f"locale: {locale!r} is not one of {', '.join(LOCALES)}."
        raise ValueError(msg)
    token = _locale.set(locale)
    try:
        yield
    finally:
        _locale.reset(token)


def _format(text: str, variables: Mapping[str, Any]) -> str:
    # The same rule as Jinja's newstyle gettext: named %-placeholders, a literal % is %%.
    return text % variables if variables else text.replace("%%", "%")


def gettext(message: str, **variables: Any) -> str:
    """Translate ``message`` into the current language and fill its ``%(name)s`` variables."""
    return _format(translations(current_locale()).gettext(message), variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Translate a message with a count; ``%(num)s`` in it is the count."""
    text = translations(current_locale()).ngettext(singular, plural, num)
    return _format(text, {"num": num, **variables})


def pgettext(context: str, message: str, **variables: Any) -> str:
    """Translate a short ``message`` whose meaning depends on ``context`` (e.g. a noun or verb)."""
    return _format(translations(current_locale()).pgettext(context, message), variables)


# --------------------------------------------------------------------------- formatting


def _babel_locale() -> str:
    return _BABEL_LOCALE.get(current_locale(), "vi_VN")


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def format_day(value: date | datetime | str | None) -> str:
    """A day as ``dd/mm/yyyy`` (an ISO string or a date; a datetime is read in Vietnam time)."""
    if value is None or value == "":
        return ""
    day: date
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        day = moment.astimezone(LOCAL_TZ).date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    return babel_dates.format_date(day, _DAY_PATTERN, locale=_babel_locale())


def format_hhmm(value: datetime | str | None) -> str:
    """A time of day as 24-hour ``HH:MM`` in Asia/Ho_Chi_Minh (naive datetimes are UTC)."""
    moment = _as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return babel_dates.format_time(moment.astimezone(LOCAL_TZ), "HH:mm", locale=_babel_locale())


def format_number(value: float, digits: int = 0) -> str:
    """A number with the language's separators (``1.234,5`` in Vietnamese)."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=_babel_locale())


def format_km(value: float | None) -> str:
    """A distance in km with one decimal (``32,5``); ``?`` when unknown."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "?"
    return format_number(value, digits=1)


def format_money(value_vnd: float) -> str:
    """An amount of đồng as people write it: ``13.000 ₫`` (no decimals)."""
    return babel_numbers.format_currency(
        value_vnd, "VND", format="#,##0\xa0¤", currency_digits=False, locale=_babel_locale()
    )


# --------------------------------------------------------------------------- requests


def _from_accept_language(header: str) -> str | None:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if primary in LOCALES and weight > 0:
            ranked.append((weight, -position, primary))
    return max(ranked)[2] if ranked else None


def locale_from(*, query_lang: str | None, cookie: str | None, accept_language: str | None) -> str:
    """Choose the language of a request: ``?lang=``, then the cookie, ``Accept-Language``, ``vi``.

    Parameters
    ----------
    query_lang
        The ``lang`` query parameter, if any (unknown values are ignored).
    cookie
        The ``buuta_lang`` cookie, if any.
    accept_language
        The ``Accept-Language`` header, if any.

    Returns
    -------
    str
        One of :data:`LOCALES`.
    """
    for chosen in (query_lang, cookie):
        if chosen and chosen.strip().lower() in LOCALES:
            return chosen.strip().lower()
    return _from_accept_language(accept_language or "") or DEFAULT_LOCALE


def _cookies(header: str) -> dict[str, str]:
    jar: dict[str, str] = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            jar[name] = value
    return jar


def locale_of_scope(scope: Scope) -> str:
    """The language of an ASGI request (:func:`locale_from` over its query, cookie, headers)."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    query = scope.get("query_string", b"").decode("latin-1")
    return locale_from(
        query_lang=dict(parse_qsl(query)).get("lang"),
        cookie=_cookies(headers.get("cookie", "")).get(COOKIE),
        accept_language=headers.get("accept-language"),
    )


class LanguageMiddleware:
    """Decide each request's language (:func:`locale_from`) and remember a ``?lang=`` choice.

    The language lives in a context variable for the request's whole life (the route, its
    thread-pool work, the templates and maps); a valid ``?lang=`` also sets the ``buuta_lang``
    cookie on the answer. HTML answers say ``Content-Language`` and vary on the cookie and
    ``Accept-Language``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app in the request's language."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        locale = locale_of_scope(scope)
        remember = dict(parse_qsl(query)).get("lang", "").strip().lower() in LOCALES

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: list[tuple[bytes, bytes]] = []
                kinds = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
                if any(v.startswith(b"text/html") for v in kinds):
                    extra += [
                        (b"content-language", locale.encode()),
                        (b"vary", b"Cookie, Accept-Language"),
                    ]
                if remember:
                    cookie = f"{COOKIE}={locale}; Max-Age={COOKIE_MAX_AGE_S}; Path=/; SameSite=Lax"
                    extra.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        token = _locale.set(locale)
        here = _here.set((scope.get("path", "/"), query))
        try:
            await self.app(scope, receive, send_with_language)
        finally:
            _here.reset(here)
            _locale.reset(token)


def language_links() -> list[dict[str, str | bool]]:
    """Links to the current page in each language (for the switch in the page header)."""
    path, query = _here.get()
    params = [(k, v) for k, v in parse_qsl(query) if k != "lang"]
    names = {"vi": "Tiếng Việt", "en": "English"}
    return [
        {
            "lang": code,
            "name": names[code],
            "href": f"{path}?{urlencode([*params, ('lang', code)])}",
            "current": code == current_locale(),
        }
        for code in LOCALES
    ]


# --------------------------------------------------------------------------- templates


def _per_request(format_value: Callable[..., str]) -> Callable[..., str]:
    """A filter Jinja must not compute at compile time: ``{{ 13000|money }}`` would otherwise
    be folded into the template in the language of the request that compiled it."""

    @jinja2.pass_context
    def apply(_context: Any, value: Any, *args: Any) -> str:
        return format_value(value, *args)

    return apply


def template_environment(directory: Path) -> jinja2.Environment:
    """A Jinja2 environment for buuta's pages, speaking the request's language.

    It has Jinja's i18n extension with :func:`gettext`, :func:`ngettext` and :func:`pgettext`
    installed new-style (variables by keyword, escaped), the filters ``day``, ``hhmm``,
    ``number``, ``km`` and ``money``, and the globals ``lang`` (a function: the current
    language) and ``language_links``.

    Parameters
    ----------
    directory
        The templates' directory.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    # The callables read the request's language from the context variable, so one shared
    # environment serves concurrent requests in different languages.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: translations(current_locale()).gettext(message),
        ngettext=lambda s, p, n: translations(current_locale()).ngettext(s, p, n),
        pgettext=lambda c, m: translations(current_locale()).pgettext(c, m),
        newstyle=True,
    )
    formats: dict[str, Callable[..., str]] = {
        "day": format_day,
        "hhmm": format_hhmm,
        "number": format_number,
        "km": format_km,
        "money": format_money,
    }
    env.filters.update({name: _per_request(f) for name, f in formats.items()})
    env.globals.update(current_locale=current_locale, language_links=language_links)
    return env
