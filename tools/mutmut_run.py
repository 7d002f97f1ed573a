"""Mutation testing with mutmut over the modules the legal review named (issue 19).

mutmut breaks every operator, constant and condition in a module, one at a time, and runs the
tests that reach the broken function; a mutant no test fails on "survived". Running it over the
whole tree with the whole suite takes hours, so this script runs one target at a time, each with
the tests that belong to it, in a copy of the tree under var/mutmut/<target>/ (never in the
working tree). The copy is kept: a second run re-tests only the functions that changed.

    .venv/bin/python tools/mutmut_run.py                 # every target
    .venv/bin/python tools/mutmut_run.py disclosure      # one
    .venv/bin/python tools/mutmut_run.py --survivors policy

The same targets are configured in pyproject.toml ([tool.mutmut]) for a plain `mutmut run` over
all of them with the whole suite. docs/mutation-testing.md has the last counts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "mutmut"
# Some mutants loop while allocating (a `while` whose exit was mutated away); without a ceiling
# one of them took 13 GB before mutmut's timeout came. Such a mutant then dies of MemoryError,
# which counts as killed.
MEMORY_LIMIT = 6 * 1024**3


@dataclass(frozen=True)
class Target:
    name: str
    mutate: tuple[str, ...]
    tests: tuple[str, ...]


TARGETS: tuple[Target, ...] = (
    Target("disclosure", ("src/samverkan/stats/disclosure.py",), ("tests/stats/",)),
    Target("policy", ("src/samverkan/disclosure/policy.py",), ("tests/cases/", "tests/consent/")),
    Target("consent", ("src/samverkan/consent/services/*",), ("tests/consent/",)),
    Target("audit", ("src/samverkan/audit/*",), ("tests/audit/",)),
    Target("records", ("src/samverkan/records/*",), ("tests/records/",)),
)

_SECTION = re.compile(r"^\[tool\.mutmut\]\n(?:(?!\[).*\n|\n)*", re.MULTILINE)


def _toml_list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def _config(target: Target) -> str:
    # Only one mutmut child at a time: the tests share one SQLite test database file per
    # process, and two children creating and dropping it at once would "kill" mutants falsely.
    return (
        "[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {_toml_list(target.mutate)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(target.tests)}\n"
        'pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:cacheprovider", '
        '"-o", "pythonpath=. src"]\n'
    )


def _prepare(target: Target) -> Path:
    tree = WORK / target.name
    tree.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache")
    for part in ("src", "tests"):
        shutil.rmtree(tree / part, ignore_errors=True)
        shutil.copytree(ROOT / part, tree / part, ignore=ignore)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = _SECTION.sub("", pyproject).rstrip("\n") + "\n\n" + _config(target)
    (tree / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return tree


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _mutmut(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    mutmut = Path(sys.executable).with_name("mutmut")
    env = {**os.environ, "SAMVERKAN_DATA_DIR": str(tree / "data"), "PYTHONWARNINGS": "ignore"}
    return subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(mutmut), *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=_limit_memory,
    )


def statuses(listing: str) -> dict[str, str]:
    """`mutmut results --all true` prints `    <mutant>: <status>` per mutant."""
    found: dict[str, str] = {}
    for line in listing.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith("samverkan.") and "__mutmut_" in name:
            found[name] = status.strip()
    return found


@dataclass(frozen=True)
class Summary:
    target: str
    seconds: int
    counts: dict[str, int]
    survived: list[str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def run(target: Target) -> Summary:
    tree = _prepare(target)
    started = time.monotonic()
    result = _mutmut(tree, "run", "--max-children", "1")
    seconds = round(time.monotonic() - started)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"mutmut run failed for {target.name} (exit {result.returncode})")
    found = statuses(_mutmut(tree, "results", "--all", "true").stdout)
    summary = Summary(
        target=target.name,
        seconds=seconds,
        counts=dict(sorted(Counter(found.values()).items())),
        survived=sorted(n for n, s in found.items() if s == "survived"),
    )
    (tree / "summary.json").write_text(
        json.dumps({**asdict(summary), "total": summary.total}, indent=2) + "\n", encoding="utf-8"
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [t.name for t in TARGETS]
    parser.add_argument("targets", nargs="*", help=f"some of: {', '.join(names)} (default: all)")
    parser.add_argument("--survivors", action="store_true", help="list each surviving mutant")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.targets) - set(names))
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}; choose from {', '.join(names)}")
    chosen = [t for t in TARGETS if not args.targets or t.name in args.targets]
    for target in chosen:
        summary = run(target)
        counts = summary.counts
        others = ", ".join(
            f"{k}: {v}" for k, v in counts.items() if k not in ("killed", "survived")
        )
        print(
            f"{target.name:<11} {summary.total:>5} mutants  {counts.get('killed', 0):>5} killed  "
            f"{counts.get('survived', 0):>4} survived  {summary.seconds:>6} s  {others}",
            flush=True,
        )
        if args.survivors:
            for name in summary.survived:
                print(f"    {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
