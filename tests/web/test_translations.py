"""The committed Swedish catalogue: complete, faithful to its placeholders, compiled, and used.

The .po is parsed with a small reader below (no extra dependency). The committed .mo is read
with the standard library's ``gettext`` module, so a stale .mo is caught even where gettext's
``msgfmt`` is not installed; with ``msgfmt`` present the .po is also compiled afresh and compared.
"""

from __future__ import annotations

import ast
import gettext as stdlib_gettext
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

import samverkan

LC_MESSAGES = Path(samverkan.__file__).resolve().parent / "locale" / "sv" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# printf-style placeholders as Python formats them: %(name)s, %(max)d, %s, %d; "%%" is a literal.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a singular entry's msgstr
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    obsolete: bool = False
    line: int = 0

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def parse_po(text: str) -> list[Entry]:
    """Read a .po file into entries; the header (empty msgid) is the first entry."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None
    started = False

    def finish() -> None:
        nonlocal entry, started, target
        if started:
            entries.append(entry)
        entry, started, target = Entry(), False, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            if started:  # a flag comment opens the next entry
                finish()
            entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match:
            keyword, index, literal = match.groups()
            if keyword in ("msgctxt", "msgid") and started and target and target[0] == "msgstr":
                finish()
            if not started:
                started, entry.line = True, number
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index) if index is not None else 0)
                entry.msgstr[target[1]] = ""
            else:
                target = (keyword, 0)
                setattr(entry, keyword, "")
            value = ast.literal_eval(literal)
        elif line.startswith('"') and target is not None:
            value = ast.literal_eval(line)
        else:
            raise AssertionError(f"django.po line {number}: cannot parse {raw!r}")
        if target[0] == "msgstr":
            entry.msgstr[target[1]] += value
        else:
            setattr(entry, target[0], getattr(entry, target[0]) + value)
    finish()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO_PATH.is_file(), f"{PO_PATH} is missing"
    parsed = [e for e in parse_po(PO_PATH.read_text(encoding="utf-8")) if not e.obsolete]
    assert parsed, "django.po holds no entries"
    assert parsed[0].msgid == "", "django.po must start with its header"
    return parsed


@pytest.fixture(scope="module")
def messages(entries: list[Entry]) -> list[Entry]:
    return entries[1:]


def test_the_header_declares_swedish_utf8_and_two_plural_forms(entries: list[Entry]) -> None:
    header = entries[0]
    assert "fuzzy" not in header.flags
    fields = dict(line.split(":", 1) for line in header.msgstr[0].splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    assert fields.get("Language") == "sv"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"
    assert fields.get("Plural-Forms") == "nplurals=2; plural=(n != 1);"


def test_the_catalogue_is_not_empty(messages: list[Entry]) -> None:
    assert len(messages) > 100
    assert len({(e.msgctxt, e.msgid) for e in messages}) == len(messages), "duplicate msgids"


def test_every_entry_is_translated_and_none_is_fuzzy(messages: list[Entry]) -> None:
    fuzzy = [e.label for e in messages if "fuzzy" in e.flags]
    untranslated = []
    for e in messages:
        expected = {0, 1} if e.msgid_plural is not None else {0}
        if set(e.msgstr) != expected or not all(s.strip() for s in e.msgstr.values()):
            untranslated.append(e.label)
    problems = [f"fuzzy: {label}" for label in fuzzy] + [f"empty: {x}" for x in untranslated]
    assert not problems, "django.po is not complete:\n" + "\n".join(problems)


def test_placeholders_survive_translation(messages: list[Entry]) -> None:
    problems = []
    for e in messages:
        sources = {0: e.msgid} if e.msgid_plural is None else {0: e.msgid, 1: e.msgid_plural}
        for index, translated in e.msgstr.items():
            source = sources.get(index, e.msgid_plural or e.msgid)
            wanted = Counter(PLACEHOLDER.findall(source))
            got = Counter(PLACEHOLDER.findall(translated))
            if wanted != got:
                problems.append(f"{e.label} msgstr[{index}]: {dict(wanted)} != {dict(got)}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_html_tags_survive_translation(messages: list[Entry]) -> None:
    problems = []
    for e in messages:
        for index, translated in e.msgstr.items():
            source = e.msgid if index == 0 else (e.msgid_plural or e.msgid)
            if Counter(HTML_TAG.findall(source)) != Counter(HTML_TAG.findall(translated)):
                problems.append(f"{e.label} msgstr[{index}]")
    assert not problems, "HTML tags differ:\n" + "\n".join(problems)


def _without_creation_date(header: str) -> str:
    # msgfmt leaves POT-Creation-Date out of the compiled header.
    return "".join(
        line
        for line in header.splitlines(keepends=True)
        if not line.startswith("POT-Creation-Date:")
    )


def _mo_catalogue(data_path: Path) -> dict[object, str]:
    with data_path.open("rb") as handle:
        catalogue = dict(stdlib_gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]
    catalogue[""] = _without_creation_date(catalogue.get("", ""))
    return catalogue


def test_the_committed_mo_holds_exactly_the_po(entries: list[Entry]) -> None:
    """Runs everywhere: decode the .mo with the standard library and compare with the .po."""
    assert MO_PATH.is_file(), f"{MO_PATH} is missing; compile it with msgfmt"
    expected: dict[object, str] = {}
    for e in entries:
        key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if key == "":
            expected[key] = _without_creation_date(e.msgstr[0])
        elif e.msgid_plural is None:
            expected[key] = e.msgstr[0]
        else:
            for index, text in e.msgstr.items():
                expected[(key, index)] = text
    got = _mo_catalogue(MO_PATH)
    stale = sorted(repr(k) for k in expected.keys() | got.keys() if expected.get(k) != got.get(k))
    assert not stale, "django.mo is out of date with django.po; recompile it:\n" + "\n".join(stale)


def test_the_committed_mo_matches_a_fresh_msgfmt_build(tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("gettext's msgfmt is not installed; the stdlib comparison above still runs")
    fresh = tmp_path / "django.mo"
    result = subprocess.run(  # noqa: S603 - msgfmt found on PATH, fixed arguments
        [msgfmt, "--check", "-o", str(fresh), str(PO_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    if fresh.read_bytes() == MO_PATH.read_bytes():
        return
    # Another gettext version may lay the file out differently; only the content must agree.
    assert _mo_catalogue(fresh) == _mo_catalogue(MO_PATH), (
        "django.mo is out of date: run msgfmt --check -o "
        "src/samverkan/locale/sv/LC_MESSAGES/django.mo "
        "src/samverkan/locale/sv/LC_MESSAGES/django.po"
    )


def test_django_uses_the_swedish_catalogue() -> None:
    with translation.override("sv"):
        assert translation.gettext("Log in") == "Logga in"
        assert translation.gettext("Log out") == "Logga ut"
        assert translation.gettext("SSPF coordinator") == "SSPF-samordnare"
        assert translation.gettext("Social services") == "Socialtjänst"
        assert (
            translation.ngettext("%(counter)s event", "%(counter)s events", 1) % {"counter": 1}
            == "1 händelse"
        )
        assert (
            translation.ngettext("%(counter)s event", "%(counter)s events", 3) % {"counter": 3}
            == "3 händelser"
        )
    with translation.override("en"):
        assert translation.gettext("Log in") == "Log in"
        assert translation.gettext("SSPF coordinator") == "SSPF coordinator"


def test_every_message_in_the_source_is_in_the_catalogue(
    entries: list[Entry], tmp_path: Path
) -> None:
    """A new English text without a Swedish entry would show in English on Swedish pages;
    this extracts the messages afresh (as `make messages` does) and compares."""
    if shutil.which("xgettext") is None:
        pytest.skip("gettext's xgettext is not installed; the other checks still run")
    package = Path(samverkan.__file__).resolve().parent
    copy = tmp_path / "samverkan"
    shutil.copytree(
        package, copy, ignore=shutil.ignore_patterns("migrations", "locale", "__pycache__")
    )
    (copy / "locale").mkdir()
    from django.core.management import call_command

    previous = Path.cwd()
    try:
        import os

        os.chdir(copy)
        call_command("makemessages", locale=["sv"], no_location=True, verbosity=0)
    finally:
        os.chdir(previous)
    fresh = parse_po((copy / "locale" / "sv" / "LC_MESSAGES" / "django.po").read_text("utf-8"))
    assert len(fresh) > 100, "extraction found too few messages to be trusted"
    committed = {(e.msgctxt, e.msgid) for e in entries if e.msgid}
    missing = sorted(e.msgid for e in fresh if e.msgid and (e.msgctxt, e.msgid) not in committed)
    assert not missing, "not in django.po (run `make messages` and translate):\n" + "\n".join(
        missing[:40]
    )
