"""The project's own import-linter contracts (tools/import_contracts.py) find what they are for.

``make lint`` runs them over the real tree; here each runs over a small package written for the
test, with one breach of each kind and the same code where it is allowed, so a contract that
stopped seeing anything would fail here rather than pass quietly in CI.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
# What the lint-imports script runs (``python -m importlinter.cli`` does nothing).
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"

FILES = {
    "__init__.py": "",
    "cases/__init__.py": "",
    "cases/models.py": "class Entry:\n    objects = None\n    _default_manager = None\n",
    "cases/services.py": """
        from fakehouse.audit import record

        def _pseudonym() -> str:
            return "x"

        def entry_add() -> None:
            record()
    """,
    "cases/selectors.py": """
        from fakehouse.cases.models import Entry

        def entries() -> object:
            return Entry.objects
    """,
    "audit/__init__.py": "def record() -> None:\n    pass\n",
    "disclosure/__init__.py": "",
    "disclosure/selectors.py": """
        from fakehouse.cases import models
        from fakehouse.cases.models import Entry as Row

        def listing() -> object:
            return Row.objects, models.Entry.objects
    """,
    "stats/__init__.py": "",
    "stats/synth.py": """
        from fakehouse.audit import record as write_event
        from fakehouse.cases import services
        from fakehouse.cases.models import Entry
        from fakehouse.cases.services import _pseudonym

        def make() -> None:
            services._pseudonym()
            Entry._default_manager
            write_event()
    """,
}


@pytest.fixture(scope="module")
def contracts() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_contracts", ROOT / "tools" / "import_contracts.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_contracts"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Iterator[grimp.ImportGraph]:
    base = tmp_path_factory.mktemp("house")
    for name, text in FILES.items():
        path = base / "fakehouse" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    sys.path.insert(0, str(base))
    try:
        yield grimp.build_graph("fakehouse", cache_dir=None)
    finally:
        sys.path.remove(str(base))
        for name in [m for m in sys.modules if m == "fakehouse" or m.startswith("fakehouse.")]:
            del sys.modules[name]


def _findings(contract_class: Any, graph: grimp.ImportGraph, **options: Any) -> list[str]:
    contract = contract_class(
        name="test", session_options={}, contract_options={"root": "fakehouse", **options}
    )
    check = contract.check(graph, verbose=False)
    found = [f"{f['module']}:{f['line']}: {f['text']}" for f in check.metadata["findings"]]
    assert check.kept == (not found)
    return found


def test_private_names_finds_another_apps_underscore_name_imported_or_reached_through_a_module(
    contracts: ModuleType, house: grimp.ImportGraph
) -> None:
    assert _findings(contracts.PrivateNamesContract, house) == [
        "fakehouse.stats.synth:5: imports private fakehouse.cases.services._pseudonym",
        "fakehouse.stats.synth:8: uses private fakehouse.cases.services._pseudonym",
    ]


def test_manager_access_finds_the_journal_read_outside_the_modules_allowed(
    contracts: ModuleType, house: grimp.ImportGraph
) -> None:
    found = _findings(
        contracts.ManagerAccessContract,
        house,
        models=["fakehouse.cases.models.Entry"],
        allowed_modules=["fakehouse.disclosure.**"],
    )
    assert found == [
        "fakehouse.cases.selectors:5: queries fakehouse.cases.models.Entry.objects",
        "fakehouse.stats.synth:9: queries fakehouse.cases.models.Entry._default_manager",
    ]


def test_call_sites_finds_a_call_outside_the_modules_allowed_whatever_it_is_named_locally(
    contracts: ModuleType, house: grimp.ImportGraph
) -> None:
    found = _findings(
        contracts.CallSitesContract,
        house,
        functions=["fakehouse.audit.record"],
        allowed_modules=["**.services", "**.selectors"],
    )
    assert found == ["fakehouse.stats.synth:10: calls fakehouse.audit.record"]


def test_the_project_keeps_its_contracts() -> None:
    """What ``make lint`` runs, so a broken contract fails both lint and the suite."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and tool
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "tools"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


def _is_table(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function that only returns a literal (synthetic data's tables) is data, not logic."""
    body = [
        node
        for node in function.body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    return (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and isinstance(body[0].value, ast.Dict | ast.List | ast.Tuple)
    )


def _sources() -> list[Path]:
    return sorted(
        path
        for folder in ("src/samverkan", "tools")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_no_module_over_800_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in _sources()
        if (n := len(path.read_text().splitlines())) > 800
    }
    assert long == {}


def test_no_function_over_80_lines() -> None:
    long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_table(node):
                assert node.end_lineno is not None
                if (n := node.end_lineno - node.lineno + 1) > 80:
                    long[f"{path.relative_to(ROOT)}::{node.name}"] = n
    assert long == {}
