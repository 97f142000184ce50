"""What the command line imports, and that the project's modules import each other without a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.cli import ROOT

PACKAGES = ("cockpit", "screens", "connectors")

# Not needed to print help or to parse a command: the UI, the judge's numerics, the HTTP
# stack and every connector load only when a command runs that uses them.
HEAVY = ("textual", "numpy", "scipy", "httpx", "connectors")


def _imported_after(code: str) -> list[str]:
    """The heavy modules loaded by `code`, run in a fresh interpreter."""
    probe = (
        "import contextlib, io, sys\n"
        f"{code}\n"
        f"heavy = {HEAVY!r}\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_cockpit_help_imports_no_ui_numerics_http_or_connector() -> None:
    code = (
        "from cockpit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    )
    assert _imported_after(code) == []


def test_every_commands_help_imports_no_ui_numerics_http_or_connector() -> None:
    commands = [
        *("status", "config", "connectors", "audit", "canary", "rollback", "incident"),
        "policy",
    ]
    code = (
        "from cockpit.cli import main\n"
        f"for command in {commands!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main([command, '--help'])"
    )
    assert _imported_after(code) == []


def test_plain_cockpit_builds_no_subcommand_parser() -> None:
    """Plain `cockpit` goes from the root options to the app: the modules that only define
    subcommands (audit, incident, judge, actions) stay unloaded on the way to the first frame."""
    code = """
import sys, types
loaded = []

class CockpitApp:
    return_code = 0

    def __init__(self, settings, read_only=False):
        pass

    def run(self):
        loaded.extend(sorted(sys.modules))

sys.modules["cockpit.app"] = types.SimpleNamespace(CockpitApp=CockpitApp)
from cockpit.cli import main

assert main([]) == 0
subcommands = ("cockpit.audit.cli", "cockpit.incident.cli", "cockpit.judge", "cockpit.actions_cli",
               "cockpit.cli.actions", "cockpit.audit")
print(" ".join(m for m in loaded if m.startswith(subcommands)))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == []


def test_exit_codes_are_one_enum_in_a_module_that_imports_nothing_of_ours() -> None:
    from cockpit.cli.exits import Exit

    assert {e.name: int(e) for e in Exit} == {
        "OK": 0,
        "FAILED": 1,
        "USAGE": 2,
        "REFUSED": 3,
        "PENDING": 4,
    }
    source = ROOT / "cockpit" / "cli" / "exits.py"
    assert not [m for m in _imports(source, "cockpit.cli.exits") if m.split(".")[0] in PACKAGES]


# --- import cycles ------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    """Every module by name: the Python ones, and the C extensions by their stubs (a `.pyi`
    beside no `.py`, such as connectors/demo/_draws.pyi), which import nothing of ours."""
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py*"))
        if path.suffix == ".py" or (path.suffix == ".pyi" and not path.with_suffix(".py").exists())
    }


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _import_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at module level or inside a function, except those under
    `if TYPE_CHECKING:`, which never run (the type checker resolves its own cycles)."""
    for node in nodes:
        if _type_checking_only(node):
            yield from _import_nodes(node.orelse)  # type: ignore[attr-defined]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        else:
            yield from _import_nodes(ast.iter_child_nodes(node))


def _imports(path: Path, module: str) -> Iterator[str]:
    """Dotted names `module` imports; `from a.b import c` gives a.b.c, which the caller
    shortens to a.b when c is not a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports. Importing a submodule runs its packages'
    __init__ too; those implicit edges are left out (a package re-exporting its own modules
    is the normal shape), the named module counts."""
    modules = _project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in _imports(path, module):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest circle through each strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph has a few hundred nodes
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_shortest_circle(graph, sorted(g)[0], g) for g in groups]


def _shortest_circle(graph: dict[str, set[str]], start: str, group: set[str]) -> list[str]:
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & group):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    following.append(w)
        frontier = following
    return [start]


def test_the_cycle_finder_names_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    """Every import counts, inside functions too: a lazy import hides a circle from start-up,
    not from the reader, who still cannot understand one module without the other."""
    found = cycles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" -> ".join(c) for c in found)
