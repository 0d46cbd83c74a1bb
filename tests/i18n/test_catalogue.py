"""The Vietnamese catalogue covers every string the pages and the code show (DESIGN §11).

The strings are extracted exactly as ``make messages`` does (``babel.cfg``: ``api/**.py`` and
``api/templates/**.html``), so a string added to a page without its Vietnamese fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages import pofile
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from api import i18n

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "api" / "locale" / "vi" / "LC_MESSAGES" / "messages.po"


def extracted() -> dict[tuple[str | None, str], list[str]]:
    """Every (context, msgid) of the code and templates, with the files that use it."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple[str | None, str], list[str]] = {}
    for filename, _, message, _, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((context, msgid), []).append(filename)
    return found


def catalogue() -> Catalog:
    """The Vietnamese catalogue as Babel reads it."""
    with PO.open("rb") as source:
        return pofile.read_po(source, locale="vi")


def test_extraction_finds_the_pages_and_the_code() -> None:
    """The extraction reaches templates, pages, every map module and the words table (not an
    empty set): the maps are a package, so ``api/**.py`` must reach into its folder."""
    files = {f for users in extracted().values() for f in users}
    maps = [f"api/maps/{name}.py" for name in ("base", "plan", "progress", "journey")]
    for expected in ("api/templates/base.html", "api/pages.py", "api/words.py", *maps):
        assert expected in files, f"no string extracted from {expected}"


def test_every_extracted_string_has_a_vietnamese_translation() -> None:
    """No msgid of the code or templates is missing, empty or fuzzy in the .po."""
    cat = catalogue()
    problems = []
    for (context, msgid), users in sorted(extracted().items(), key=lambda kv: kv[0][1]):
        entry = cat.get(msgid, context=context)
        where = ", ".join(sorted(set(users)))
        if entry is None:
            problems.append(f"missing from messages.po: {msgid!r} ({where}); run make messages")
        elif entry.fuzzy:
            problems.append(f"fuzzy (unchecked): {msgid!r} ({where})")
        elif not all(entry.string) if isinstance(entry.string, tuple) else not entry.string:
            problems.append(f"no Vietnamese: {msgid!r} ({where})")
    assert problems == [], "\n".join(problems)


def test_translations_keep_their_placeholders() -> None:
    """Babel's checkers find no msgstr that drops or renames a %(name)s of its msgid."""
    errors = [
        f"{message.id!r}: {'; '.join(str(e) for e in errs)}"
        for message, errs in catalogue().check()
    ]
    assert errors == []


def test_the_catalogue_is_vietnamese_with_diacritics() -> None:
    """A sample of domain words reads as Vietnamese, per the glossary."""
    with i18n.use_locale("vi"):
        assert i18n.gettext("Courier") == "Bưu tá"
        assert i18n.gettext("Post office") == "Bưu cục"
        assert i18n.gettext("Cannot reach the citizen within the booked time") == (
            "Không kịp giờ hẹn của người dân"
        )
    with i18n.use_locale("en"):
        assert i18n.gettext("Courier") == "Courier"


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_each_language_compiles_from_the_po(locale: str) -> None:
    """The catalogue compiles in memory (no .mo in the repository) and is cached."""
    assert i18n.translations(locale) is i18n.translations(locale)
    assert not list((ROOT / "api" / "locale").rglob("*.mo"))
