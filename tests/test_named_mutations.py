"""tools/named_mutations.py still points at code: each mutation's text occurs exactly once in
its file, and the tests that guard it exist. Moving code without moving its mutation would
otherwise leave ``make mutations`` reporting on nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "named_mutations", ROOT / "tools" / "named_mutations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["named_mutations"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


MUTATIONS = _load().MUTATIONS


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_each_named_mutation_applies_to_exactly_one_place(mutation: Any) -> None:
    source = ROOT / mutation.file
    assert source.is_file(), f"{mutation.file} is gone"
    assert source.read_text().count(mutation.old) == 1
    for test in mutation.tests:
        assert (ROOT / test.split("::")[0]).is_file(), f"{test} is gone"
