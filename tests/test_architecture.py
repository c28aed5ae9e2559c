"""The package's shape: one core, method packages on top, no cycles, no reaching into privates.

* the core (top-level modules and ``datasets``) never imports a method package at module level
  (the command line, ``cli``, is a front end over the methods, like ``__main__``);
* a method package never imports another method package's private (``_x``) modules;
* the module-level imports between files form no cycle;
* no source file is over 800 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import symmetrykit

ROOT = Path(symmetrykit.__file__).parent
METHOD_PACKAGES = {"lens", "flows", "baselines", "liederiv", "sweeps", "cli"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        anchor = parts if is_package else parts[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    if not base.startswith("symmetrykit"):
        return []
    # "from . import x" may name submodules: count them as imports of those modules.
    return [f"{base}.{alias.name}" if node.module is None else base for alias in node.names]


def _module_level_imports() -> dict[str, set[str]]:
    """Module -> symmetrykit modules it imports at import time (not inside functions)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for node in tree.body:  # module level only; TYPE_CHECKING blocks are skipped
            if isinstance(node, ast.ImportFrom):
                targets.update(_resolve(module, path.name == "__init__.py", node))
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("symmetrykit"))
        graph[module] = targets
    return graph


def _files(graph: dict[str, set[str]], name: str) -> str | None:
    """The module of ``name`` known to the graph (a name may be a class: strip it)."""
    while name and name not in graph:
        name = name.rpartition(".")[0]
    return name or None


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_the_core_imports_no_method_package():
    graph = _module_level_imports()
    for module, targets in graph.items():
        if _package(module) in METHOD_PACKAGES or module in ("symmetrykit", "symmetrykit.__main__"):
            continue
        bad = sorted(t for t in targets if _package(t) in METHOD_PACKAGES)
        assert not bad, f"core module {module} imports method packages {bad}"


def test_no_method_package_reaches_into_another_ones_privates():
    graph = _module_level_imports()
    for module, targets in graph.items():
        own = _package(module)
        if own not in METHOD_PACKAGES:
            continue
        for target in targets:
            other = _package(target)
            parts = target.split(".")
            if other in METHOD_PACKAGES - {own, "cli"} and any(p.startswith("_") for p in
                                                                 parts[2:]):
                raise AssertionError(f"{module} imports the private {target}")


def test_module_level_imports_have_no_cycle():
    graph = _module_level_imports()
    edges = {m: {f for t in targets if (f := _files(graph, t)) and f != m}
             for m, targets in graph.items()}
    # A package's __init__ importing its own submodules is the normal direction; a submodule
    # importing its package's __init__ back is the cycle to avoid.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_no_source_file_is_over_800_lines():
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800}
    assert not long, long
