"""Latvian is the portal's first language: every text has a Latvian translation, and the
compiled catalogue that Django reads is the one the translators wrote."""

import gettext
from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "lv" / "LC_MESSAGES"


def test_every_text_has_a_latvian_translation_that_is_not_fuzzy():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_compiled_catalogue_matches_the_translations():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    with (CATALOGUE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            got = [compiled.ngettext(entry.msgid, entry.msgid_plural, n) for n in (0, 1, 2)]
            want = [entry.msgstr_plural[index] for index in (0, 1, 2)]
        else:
            got = (
                [compiled.pgettext(entry.msgctxt, entry.msgid)]
                if entry.msgctxt
                else [compiled.gettext(entry.msgid)]
            )
            want = [entry.msgstr]
        if got != want:
            stale.append(entry.msgid)
    assert stale == [], "run `make messages` to recompile the catalogue"
