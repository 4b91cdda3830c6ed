"""No import cycles in the ``app`` package.

The graph is read from the source (the AST), not from ``sys.modules``, so an
import hidden inside a function counts as much as one at the top of a module:
it closes the same cycle, only later.  Its nodes are the modules of the
package; an edge ``a -> b`` is any ``import b`` or ``from b import name`` in
``a``, at any depth (functions, ``if`` blocks, ``try``), where
``from b import name`` counts as importing ``b.name`` when that is a module
and ``b`` otherwise.  Relative imports are resolved.

A package's ``__init__.py`` is the node named by the package (``app.cases``):
``from app.cases import service`` is an edge to ``app.cases.service`` only,
and ``from app.cases import X`` (X not a module) an edge to ``app.cases``.
The parent packages Python initializes before a submodule are not edges:
they are initialized first in any case, and an ``__init__`` can only take
part in a cycle through what it imports itself, which are edges like any
other.

A strongly connected component of more than one module is a cycle; the test
names one of its loops.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def package_modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` (a directory under ``root``), by dotted name."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(node: ast.Import | ast.ImportFrom, name: str, is_package: bool, modules: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    target = node.module or ""
    if node.level:
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        target = ".".join([*base, target] if target else base)
    edges = set()
    for alias in node.names:
        submodule = f"{target}.{alias.name}"
        if submodule in modules:
            edges.add(submodule)
        elif target in modules:
            edges.add(target)
    return edges


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports, anywhere in its body."""
    modules = package_modules(root, package)
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges |= _imported(node, name, is_package, modules)
        edges.discard(name)
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def a_loop(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One cycle through the component, for the failure message."""
    members = set(component)
    path = [component[0]]
    while True:
        following = sorted(graph[path[-1]] & members)
        step = next((m for m in following if m not in path), None)
        if step is None:
            closing = next(m for m in following if m in path)
            return [*path[path.index(closing) :], closing]
        path.append(step)


def cycles(root: Path, package: str) -> list[str]:
    graph = import_graph(root, package)
    return [" -> ".join(a_loop(graph, c)) for c in strongly_connected(graph) if len(c) > 1]


def test_the_app_package_has_no_import_cycle():
    assert cycles(ROOT, "app") == []


def test_the_graph_sees_every_module_and_function_local_imports():
    graph = import_graph(ROOT, "app")
    assert "app.main" in graph and "app.audit" in graph
    # main assembles everything: it reaches the audit package's route class.
    assert "app.audit.recorder" in set().union(*graph.values())


def _reached(graph: dict[str, set[str]], module: str) -> set[str]:
    reached, waiting = set(), [module]
    while waiting:
        for imported in graph[waiting.pop()] - reached:
            reached.add(imported)
            waiting.append(imported)
    return reached


def test_services_note_what_they_touch_without_http_and_the_route_class_knows_no_domain():
    """Services write on the request's note (``app.audit.note``), which imports
    no web framework; the route class reaches no domain package: the
    application hands it the cases' resolver of path ids."""
    note = ROOT / "app" / "audit" / "note.py"
    imported = set()
    for node in ast.walk(ast.parse(note.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.partition(".")[0])
    assert not imported & {"fastapi", "starlette"}
    graph = import_graph(ROOT, "app")
    domains = ("accounts", "auth", "cases", "grid", "orgs", "police", "privacy")
    assert not {m for m in _reached(graph, "app.audit.recorder") if m.split(".")[1] in domains}
    for service in ("app.cases.service", "app.auth.service"):
        assert "app.audit.note" in graph[service] and "app.audit.recorder" not in _reached(graph, service)


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (  # at module level
            {"pkg/a.py": "from pkg.b import x\n", "pkg/b.py": "import pkg.a\n"},
            ["pkg.a -> pkg.b -> pkg.a"],
        ),
        (  # hidden in a function, through a submodule named by `from package import module`
            {
                "pkg/__init__.py": "",
                "pkg/sub/__init__.py": "",
                "pkg/sub/a.py": "def f():\n    from pkg.sub import b\n",
                "pkg/sub/b.py": "from pkg import c\n",
                "pkg/c.py": "if True:\n    from .sub.a import f\n",
            },
            ["pkg.c -> pkg.sub.a -> pkg.sub.b -> pkg.c"],
        ),
        (  # a name re-exported by a package's __init__ is an import of the package
            {"pkg/__init__.py": "from pkg.a import x\n", "pkg/a.py": "from . import y\n"},
            ["pkg -> pkg.a -> pkg"],
        ),
        (  # a chain, and a module importing itself, are no cycle
            {"pkg/a.py": "import pkg.b\nimport pkg.a\n", "pkg/b.py": "import os\nimport pkg.c\n", "pkg/c.py": ""},
            [],
        ),
    ],
)
def test_a_cycle_is_found_and_named(tmp_path, files, expected):
    _write(tmp_path, files)
    assert cycles(tmp_path, "pkg") == expected
