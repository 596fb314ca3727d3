"""The house has no import circles, and every module imports on its own.

The graph counts every ``import`` of a minface module anywhere in a file, the ones inside
functions too: a lazy import hides a circle from Python, not from the design.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import minface

PACKAGE = Path(minface.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the minface modules it imports (a package import is an edge to its ``__init__``)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:  # `from pkg import submodule` imports the submodule
                    sub = f"{target}.{alias.name}"
                    deps.add(sub if sub in modules else target)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_reads_relative_and_lazy_imports(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("def f():\n    from . import b\n")
    (tmp_path / "pkg" / "b.py").write_text("from .a import f\n")
    mods = {"pkg": tmp_path / "pkg" / "__init__.py", "pkg.a": tmp_path / "pkg" / "a.py", "pkg.b": tmp_path / "pkg" / "b.py"}
    assert cycles(import_graph(mods)) == [["pkg.a", "pkg.b"]]


def test_minface_has_no_import_cycle():
    graph = import_graph(_modules())
    assert len(graph) > 50 and graph["minface.pipeline"]  # the walk saw the package
    assert cycles(graph) == []


@pytest.mark.parametrize("chunk", range(4))
def test_every_module_imports_alone_in_a_fresh_interpreter(chunk):
    # minface.__main__ runs the command line when imported: that is what it is for
    names = sorted(n for n in _modules() if not n.endswith(".__main__"))[chunk::4]

    def alone(name: str) -> tuple[str, int, str]:
        run = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=120)
        return name, run.returncode, run.stderr[-2000:]

    with ThreadPoolExecutor(2) as pool:
        failed = [(n, err) for n, rc, err in pool.map(alone, names) if rc != 0]
    assert names and not failed, failed


def unresolved(modules: dict[str, Path]) -> list[str]:
    """Relative imports (lazy ones too) that name no module of the package: they fail only when run."""
    bad = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            if target not in modules and not all(f"{target}.{a.name}" in modules for a in node.names):
                bad.append(f"{name}:{node.lineno}: {'.' * node.level}{node.module or ''} ({target})")
    return bad


def test_the_resolver_finds_a_relative_import_of_nothing(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "c.py").write_text("")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "a.py").write_text("def f():\n    from .c import x\n    from ..c import y\n    from .. import c\n")
    mods = {"pkg": tmp_path / "pkg" / "__init__.py", "pkg.c": tmp_path / "pkg" / "c.py",
            "pkg.sub": tmp_path / "pkg" / "sub" / "__init__.py", "pkg.sub.a": tmp_path / "pkg" / "sub" / "a.py"}
    assert unresolved(mods) == ["pkg.sub.a:2: .c (pkg.sub.c)"]


def test_every_relative_import_names_a_module():
    # a module moved into a package keeps its lazy `from .x import y` working only if it is rewritten
    assert unresolved(_modules()) == []
