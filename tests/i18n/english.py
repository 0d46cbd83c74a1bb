"""Find English interface words left in a page's visible text.

The list of English interface words is made from the catalogue itself: every word of an English
msgid that no Vietnamese msgstr also uses (so shared words such as ``buuta`` or ``km`` and the
``%(name)s`` placeholders drop out). Data (names, dossier codes, ids such as ``run-1000`` or
``po-tvt``) is not made of such words: a token counts only when it is letters alone.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.messages import pofile

PO = Path(__file__).resolve().parents[2] / "api" / "locale" / "vi" / "LC_MESSAGES" / "messages.po"
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")
_TOKEN = re.compile(r"^[^\W\d_]+$")
# Words of the msgids that a Vietnamese page shows on purpose: the name of the service, the
# language switch ("English"), and the commands the empty dispatch page names (POST /v1/plans,
# buuta user add, buuta plan); "can" is also a Vietnamese syllable in names written unmarked.
_NOT_INTERFACE = frozenset({"buuta", "english", "post", "plans", "user", "add", "plan", "can"})


def _words(text: str) -> set[str]:
    text = _PLACEHOLDER.sub(" ", text)
    return {w.lower() for w in re.split(r"[\s,.:;!?()\[\]/«»“”\"'·–—…→←▲⇄×#|]+", text) if w}


@cache
def english_words() -> frozenset[str]:
    """Lower-case words that appear only in the English side of the catalogue."""
    with PO.open("rb") as source:
        catalog = pofile.read_po(source, locale="vi")
    english: set[str] = set()
    vietnamese: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            english |= _words(text)
        for text in strings:
            vietnamese |= _words(text)
    # Words of one or two letters are left out: they are as often Vietnamese (an, to) or data.
    kept = english - vietnamese - _NOT_INTERFACE
    return frozenset(w for w in kept if _TOKEN.match(w) and len(w) >= 3)


def english_left(visible_text: str) -> list[str]:
    """The English interface words found in ``visible_text`` (sorted, each once)."""
    found = {
        token.lower()
        for token in re.split(r"[\s,.:;!?()\[\]/«»“”\"'·–—…→←▲⇄×#|]+", visible_text)
        if token and _TOKEN.match(token)
    }
    return sorted(found & english_words())
