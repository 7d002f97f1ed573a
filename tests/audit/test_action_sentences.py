"""Every audit action code written anywhere in the source has a sentence (audit/actions.py),
in English and in Swedish: the log pages never show a bare code."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.utils import translation

import samverkan
from samverkan.audit.actions import SENTENCES, action_sentence

SRC = Path(samverkan.__file__).parent
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
# Keywords whose code-like values are something else: a periodic job's name, a signing salt,
# the type of an audited object.
NOT_ACTION_KEYWORDS = {"name", "salt", "object_type", "logger", "dispatch_uid"}


def _trees() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _constants(node: ast.AST) -> Iterator[str]:
    """The string constants an expression can be: a literal or either branch of an if."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def _written_codes() -> dict[str, str]:
    """Code -> file, for every action the source can write.

    ``action=`` / ``audit_action=`` keywords with a literal; codes built as ``f"prefix.{x}"``
    combined with the dotless ``action=`` literals of the same package (``agreement.created``);
    and any other code-like literal whose first part is an action prefix (a code handed to a
    helper positionally, a default argument), unless it names a model or is the value of a
    keyword that is not an action.
    """
    found: dict[str, str] = {}
    loose: dict[str, str] = {}
    prefixes: dict[Path, set[str]] = {}
    suffixes: dict[Path, set[str]] = {}
    for path, tree in _trees():
        where = str(path.relative_to(SRC))
        other_keyword_values: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg in ("action", "audit_action"):
                for value in _constants(node.value):
                    if CODE.match(value):
                        found[value] = where
                    elif re.fullmatch(r"[a-z][a-z0-9_]*", value):
                        suffixes.setdefault(path.parent, set()).add(value)
                if isinstance(node.value, ast.JoinedStr) and node.value.values:
                    first = node.value.values[0]
                    if isinstance(first, ast.Constant) and str(first.value).endswith("."):
                        prefixes.setdefault(path.parent, set()).add(str(first.value))
            elif isinstance(node, ast.keyword) and node.arg in NOT_ACTION_KEYWORDS:
                other_keyword_values.add(id(node.value))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and CODE.match(node.value)
                and id(node) not in other_keyword_values
            ):
                loose.setdefault(node.value, where)
    for package, built in prefixes.items():
        for prefix in built:
            for suffix in suffixes.get(package, set()):
                found[f"{prefix}{suffix}"] = str(package.relative_to(SRC))
    action_prefixes = {code.split(".", 1)[0] for code in found}
    models = {model._meta.label_lower for model in apps.get_models()}
    for value, where in loose.items():
        if value.split(".", 1)[0] in action_prefixes and value not in models:
            found.setdefault(value, where)
    return found


# Code-like literals with an action prefix that are not actions: object types that name no
# model, a model's label from before it moved app, signing salts. Add here only what is never
# written as an action.
NOT_ACTIONS = {
    "audit.chain",
    "records.backup",
    "records.retention",
    "consent.eidorder",
    "consent.portallogincode",
    "records.subject_export.redaction",
    "records.subject_export.token",
}


def test_the_scan_finds_the_codes_it_must():
    codes = _written_codes()
    # A literal keyword, an f-string built code, a code passed to a helper positionally and a
    # default argument: the scan sees each kind.
    for code in ("entry.viewed", "agreement.created", "auth.password_changed", "consent.viewed"):
        assert code in codes, code
    assert "consent.consentsignature" not in codes  # a model's label, not an action
    assert "stats.refresh" not in codes  # a periodic job's name


def test_every_written_action_code_has_a_sentence():
    missing = {
        code: where
        for code, where in _written_codes().items()
        if code not in SENTENCES and code not in NOT_ACTIONS
    }
    assert not missing, f"audit action codes without a sentence in audit/actions.py: {missing}"


def test_every_sentence_is_translated_to_swedish():
    with translation.override("en"):
        english = {code: str(text) for code, text in SENTENCES.items()}
    with translation.override("sv"):
        untranslated = [code for code, text in SENTENCES.items() if str(text) == english[code]]
    assert not untranslated, untranslated


def test_sentences_read_as_sentences():
    with translation.override("sv"):
        assert action_sentence("entry.viewed") == "läste journalanteckningar"
    with translation.override("en"):
        assert action_sentence("entry.viewed") == "read journal entries"
        assert "x.unknown_thing" in action_sentence("x.unknown_thing")
