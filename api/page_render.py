"""Rendering of buuta's pages (:mod:`api.pages`, the courier's, staff and citizens' pages).

One Jinja2 environment speaking the request's language (:func:`api.i18n.template_environment`),
with the words of :mod:`api.words` as globals, and one function that answers a page with the
headers every buuta page carries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse

from api import words
from api.i18n import template_environment
from api.words import role_words

__all__ = ["render"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = template_environment(_TEMPLATES)
_env.globals.update(
    status_words=words.status_words,
    status_explanation=words.status_explanation,
    scan_words=words.scan_words,
    site_kind_words=words.site_kind_words,
    stop_type_words=words.stop_type_words,
    reason_words=words.reason_words,
    plan_status_words=words.plan_status_words,
)


def render(
    template: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """Answer ``template`` rendered with ``context`` (``role`` and ``user`` default to none).

    Parameters
    ----------
    template
        The template's file name under ``api/templates``.
    status
        The HTTP status.
    headers
        Extra headers (``Retry-After`` …).
    """
    context.setdefault("user", None)
    context.setdefault("role", "")
    context.setdefault("role_name", role_words(context["role"]) if context["role"] else "")
    page = _env.get_template(template).render(**context)
    return HTMLResponse(
        page,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            **(headers or {}),
        },
    )
