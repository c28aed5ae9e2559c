"""Write the API reference pages (``docs/api/generated/*.rst``) from each module's ``__all__``.

One page per public module: its docstring, a summary table of every public name and the full
entry of each (autodoc). Generated at every build from the code, so the reference cannot fall
behind ``__all__``; a file is rewritten only when its text changes (Sphinx then rebuilds only
what changed).
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

# Public modules in the order of the reference, with a one-line title.
MODULES: tuple[tuple[str, str], ...] = (
    ("symmetrykit.lens", "SymmetryLens"),
    ("symmetrykit.liederiv", "the Lie-derivative framework"),
    ("symmetrykit.flows", "generator flows"),
    ("symmetrykit.baselines", "LieGAN and SymmetryGAN"),
    ("symmetrykit.lie", "Lie algebras and generator stacks"),
    ("symmetrykit.metrics", "similarity of generators and algebras"),
    ("symmetrykit.datasets", "data sets with known symmetry, loading user data"),
    ("symmetrykit.methods", "the method registry"),
    ("symmetrykit.runs", "run directories and atomic writes"),
    ("symmetrykit.plot", "figures"),
    ("symmetrykit.sweeps", "sweeps and the benchmark matrix on Dask"),
    ("symmetrykit.testing", "test helpers"),
    ("symmetrykit.progress", "progress meters"),
)

# Names re-exported by a module whose home (and documentation) is another public module.
DOCUMENTED_ELSEWHERE: dict[str, tuple[str, ...]] = {
    "symmetrykit.lens": ("skew_logarithm",),  # symmetrykit.lie.skew_logarithm
}

# Names of the flat namespace documented on the top-level page itself (their home is private).
TOP_LEVEL_OWN = ("load", "SymmetryEstimator")

#: ``symmetrykit.NAME`` -> where it is documented (filled by :func:`write_pages`), so that
#: references to the flat namespace resolve (``docs/conf.py``'s ``missing-reference`` hook).
FLAT_HOMES: dict[str, str] = {}


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:  # a lazily exported module, e.g. symmetrykit.methods
        parent, _, attribute = name.rpartition(".")
        return getattr(importlib.import_module(parent), attribute)


def _is_data(value: object) -> bool:
    return not (inspect.isclass(value) or inspect.isroutine(value) or callable(value)
                or inspect.ismodule(value))


def _data_doc(module_name: str, name: str, value: object) -> list[str]:
    """The ``#:`` comment above the constant where it is defined (a private submodule)."""
    from sphinx.pycode import ModuleAnalyzer

    package = module_name if module_name != "symmetrykit.methods" else "symmetrykit._methods"
    candidates = [m for m in sorted(sys.modules) if m == package or m.startswith(package + ".")]
    for candidate in candidates:
        if getattr(sys.modules[candidate], name, None) is not value:
            continue
        try:
            docs = ModuleAnalyzer.for_module(candidate).find_attr_docs()
        except Exception:  # noqa: BLE001 (no source: no comment)
            continue
        lines = docs.get(("", name))
        if lines:
            return [line for line in lines if line.strip()]
    return []


def _data_directive(module_name: str, name: str, value: object) -> str:
    text = repr(value)
    lines = [f".. py:data:: {name}", f"   :type: {type(value).__name__}"]
    if len(text) <= 90:
        lines.append(f"   :value: {text}")
    lines.append("")
    doc = _data_doc(module_name, name, value)
    if not doc:
        size = f" of {len(value)} entries" if hasattr(value, "__len__") else ""
        doc = [f"A constant ({type(value).__name__}{size}); see the module's description."]
    lines += [f"   {line}" for line in doc]
    return "\n".join(lines) + "\n"


def _directive(module: object, name: str, module_name: str = "symmetrykit") -> str:
    value = getattr(module, name)
    if inspect.isclass(value):
        kind = "autoexception" if issubclass(value, BaseException) else "autoclass"
        return f".. {kind}:: {name}\n"
    if _is_data(value):
        return _data_directive(module_name, name, value)
    return f".. autofunction:: {name}\n"


def module_page(module_name: str, title: str) -> str:
    module = _import(module_name)
    skip = set(DOCUMENTED_ELSEWHERE.get(module_name, ()))
    names = [name for name in module.__all__ if name not in skip]
    # autosummary would take a constant's summary from its type (dict, tuple): list them apart.
    constants = [name for name in names if _is_data(getattr(module, name))]
    objects = [name for name in names if name not in constants]
    heading = f"``{module_name}``: {title}"
    lines = [
        heading,
        "=" * len(heading),
        "",
        f".. automodule:: {module_name}",
        "   :no-members:",
        "",
        ".. autosummary::",
        "   :nosignatures:",
        "",
        *(f"   {name}" for name in objects),
        "",
    ]
    if constants:
        lines += ["Constants: " + ", ".join(f":data:`{name}`" for name in constants) + ".", ""]
    lines += ["----", ""]
    for name in objects + constants:
        lines += [_directive(module, name, module_name)]
    return "\n".join(lines)


def top_level_page() -> str:
    import symmetrykit

    rows = []
    for name in symmetrykit.__all__:
        if name.startswith("__") or name in TOP_LEVEL_OWN:
            continue
        value = getattr(symmetrykit, name)
        if inspect.ismodule(value):
            target = f"symmetrykit.{name}"
            rows.append((f"``sk.{name}``", f":mod:`{target}`"))
            continue
        module_name = next((m for m, _ in MODULES if name in _import(m).__all__), None)
        if module_name is None:
            raise RuntimeError(f"symmetrykit.{name} is documented nowhere; add its module")
        role = "class" if inspect.isclass(value) else "func"
        rows.append((f"``sk.{name}``", f":{role}:`{module_name}.{name}`"))
        FLAT_HOMES[f"symmetrykit.{name}"] = f"{module_name}.{name}"
    table = [".. list-table::", "   :header-rows: 1", "   :widths: 30 70", "",
             "   * - name", "     - documented as"]
    for left, right in rows:
        table += [f"   * - {left}", f"     - {right}"]
    heading = "``symmetrykit``: the flat namespace"
    lines = [
        heading,
        "=" * len(heading),
        "",
        ".. automodule:: symmetrykit",
        "   :no-members:",
        "",
        "``import symmetrykit as sk`` gives these names (imported on first use); each is",
        "documented in its module:",
        "",
        *table,
        "",
        "Defined here:",
        "",
        ".. py:data:: __version__",
        "   :type: str",
        "",
        "   The installed version, from the package metadata (``0.0.0+unknown`` when running",
        "   from a source tree that was not installed).",
        "",
        *(_directive(symmetrykit, name) for name in TOP_LEVEL_OWN),
    ]
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_pages(folder: Path) -> list[str]:
    """Write every page into ``folder``; return the document names (for a toctree)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = ["symmetrykit"]
    _write(folder / "symmetrykit.rst", top_level_page())
    for module_name, title in MODULES:
        _write(folder / f"{module_name}.rst", module_page(module_name, title))
        written.append(module_name)
    return written
