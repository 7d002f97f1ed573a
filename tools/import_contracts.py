"""The project's own import-linter contract types (``[tool.importlinter]`` in pyproject.toml).

import-linter's built-in contracts see modules; three of the conventions in DESIGN §5 are about
names inside modules, so they are checked here from each module's source, over the same graph:

- ``private_names``: no module imports another app's underscore name (``from
  samverkan.cases.services import _x``, ``selectors._y`` through an imported module).
- ``manager_access``: a model's manager (``Entry.objects``, also ``_default_manager`` and
  ``_base_manager``) is used only in the modules allowed, so nothing reads the journal around
  the disclosure layer.
- ``call_sites``: a function (``audit_record``) is called only from the modules allowed: audited
  reads in selectors, writes in services.

Run by ``make lint`` (``lint-imports``) with ``tools/`` on the path.
"""

from __future__ import annotations

import abc
import ast
import fnmatch
import importlib.util
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"module": self.module, "line": self.line, "text": self.text}


@cache
def _root_dir(root: str) -> Path:
    spec = importlib.util.find_spec(root)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{root} is not importable: install the project first (make install)")
    return Path(spec.origin).parent


@cache
def _file(module: str) -> Path | None:
    """The source of a module of the root package, found without importing it (importing a
    models module would need Django's settings)."""
    root, *rest = module.split(".")
    base = _root_dir(root).joinpath(*rest)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


@cache
def _tree(module: str) -> ast.Module | None:
    path = _file(module)
    return None if path is None else ast.parse(path.read_text(), filename=str(path))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _matches(module: str, patterns: Iterable[str]) -> bool:
    """``a.*.c`` matches one name per star; ``a.b.**`` is ``a.b`` and everything below it;
    ``**.services`` is any module named ``services`` and everything below it."""
    parts = module.split(".")
    for pattern in patterns:
        if pattern.startswith("**."):
            if pattern[3:] in parts[1:]:
                return True
            continue
        wanted = pattern.split(".")
        if wanted[-1] == "**":
            head = wanted[:-1]
            if len(parts) >= len(head) and all(
                fnmatch.fnmatchcase(p, w) for p, w in zip(parts, head, strict=False)
            ):
                return True
        elif len(parts) == len(wanted) and all(
            fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True)
        ):
            return True
    return False


def _modules(graph: ImportGraph, root: str, skip: Iterable[str]) -> Iterator[str]:
    for module in sorted(graph.modules):
        if (module == root or module.startswith(f"{root}.")) and not _matches(module, skip):
            yield module


def _app(module: str, depth: int) -> str:
    return ".".join(module.split(".")[:depth])


def _package_of(module: str) -> str:
    path = _file(module)
    is_package = path is not None and path.name == "__init__.py"
    return module if is_package else module.rpartition(".")[0]


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module of a ``from … import``, relative imports included."""
    if not node.level:
        return node.module or ""
    base = _package_of(module).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _bound_modules(module: str, tree: ast.Module, root: str) -> dict[str, str]:
    """Local names bound to modules of the root package: ``from samverkan.cases import
    selectors`` binds ``selectors`` to ``samverkan.cases.selectors``."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(f"{root}.") and alias.asname:
                    bound[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            if not source.startswith(root):
                continue
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                if _file(candidate) is not None:
                    bound[alias.asname or alias.name] = candidate
    return bound


class _SourceContract(Contract):
    """A contract checked from the source of every module under ``root``."""

    root = fields.StringField()
    skip = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    @abc.abstractmethod
    def findings(self, module: str, tree: ast.Module) -> Iterator[Finding]:
        """The breaches in one module's source."""

    def strings(self, name: str) -> list[str]:
        """A list option's values (the fields are descriptors mypy cannot see through)."""
        return [str(value) for value in getattr(self, name)]

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        found: list[Finding] = []
        for module in _modules(graph, str(self.root), self.strings("skip")):
            tree = _tree(module)
            if tree is not None:
                found.extend(self.findings(module, tree))
        return ContractCheck(kept=not found, metadata={"findings": [f.as_dict() for f in found]})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for finding in check.metadata["findings"]:
            output.print_error(
                f"{finding['module']}:{finding['line']}: {finding['text']}", bold=False
            )
        output.new_line()


class PrivateNamesContract(_SourceContract):
    """No module uses another app's underscore names (apps are ``root.<app>``)."""

    def findings(self, module: str, tree: ast.Module) -> Iterator[Finding]:
        root = str(self.root)
        depth = root.count(".") + 2
        own = _app(module, depth)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(module, node)
                if not source.startswith(f"{root}.") or _app(source, depth) == own:
                    continue
                if any(_is_private(part) for part in source.split(".")):
                    yield Finding(module, node.lineno, f"imports private module {source}")
                for alias in node.names:
                    if _is_private(alias.name):
                        yield Finding(module, node.lineno, f"imports private {source}.{alias.name}")
        bound = _bound_modules(module, tree, root)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and _is_private(node.attr)
                and _app(bound[node.value.id], depth) != own
            ):
                yield Finding(
                    module, node.lineno, f"uses private {bound[node.value.id]}.{node.attr}"
                )


class _WatchedNamesContract(_SourceContract):
    """A contract about some names (``pkg.module.Name``) used outside ``allowed_modules``."""

    allowed_modules = fields.ListField(subfield=fields.StringField())

    @abc.abstractmethod
    def watched(self) -> set[str]:
        """The full names (``pkg.module.Name``) the contract is about."""

    def resolver(self, module: str, tree: ast.Module) -> Callable[[ast.expr], str | None]:
        """Which watched name an expression is: ``Entry`` imported from its module, or
        ``models.Entry`` through an imported module, whatever either is called locally."""
        watched = self.watched()
        names: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(module, node)
                for alias in node.names:
                    if f"{source}.{alias.name}" in watched:
                        names[alias.asname or alias.name] = f"{source}.{alias.name}"
        bound = _bound_modules(module, tree, str(self.root))

        def resolve(expr: ast.expr) -> str | None:
            if isinstance(expr, ast.Name):
                return names.get(expr.id)
            if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
                full = f"{bound.get(expr.value.id)}.{expr.attr}"
                return full if full in watched else None
            return None

        return resolve


class ManagerAccessContract(_WatchedNamesContract):
    """``models`` (``pkg.models.Model``) are queried only in ``allowed_modules``."""

    models = fields.ListField(subfield=fields.StringField())

    def watched(self) -> set[str]:
        return set(self.strings("models"))

    def findings(self, module: str, tree: ast.Module) -> Iterator[Finding]:
        if _matches(module, self.strings("allowed_modules")):
            return
        resolve = self.resolver(module, tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in _MANAGERS:
                model = resolve(node.value)
                if model is not None:
                    yield Finding(module, node.lineno, f"queries {model}.{node.attr}")


class CallSitesContract(_WatchedNamesContract):
    """``functions`` (``pkg.module.function``) are called only from ``allowed_modules``."""

    functions = fields.ListField(subfield=fields.StringField())

    def watched(self) -> set[str]:
        return set(self.strings("functions"))

    def findings(self, module: str, tree: ast.Module) -> Iterator[Finding]:
        if _matches(module, self.strings("allowed_modules")):
            return
        resolve = self.resolver(module, tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                called = resolve(node.func)
                if called is not None:
                    yield Finding(module, node.lineno, f"calls {called}")
