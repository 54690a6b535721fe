"""The package's import graph has no circles: every import of a firescribe module by another
(at module level or inside a function) is an edge, read from the source with ast."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "firescribe"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The firescribe modules ``module`` imports anywhere in its source: ``import a.b``,
    ``from a import b`` (``a.b`` where that is a module, else ``a``), relative ones too."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
    return {name for name in found if name in modules and name != module}


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {m: imported(ast.parse(p.read_text(encoding="utf-8")), m, p.name == "__init__.py", modules) for m, p in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected component of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    assert "firescribe.settings" in graph["firescribe.preflight"]  # module level
    assert "firescribe.vad" in graph["firescribe.preflight"]  # inside a function
    assert "firescribe.fireredasr.loader" in graph["firescribe.fireredvad"]  # a subpackage's module


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(import_graph()) == []


def test_the_map_in_development_md_has_every_module_and_marks_those_scripts_import():
    """docs/development.md's "where things are" lists every top-level module and subpackage,
    and italicises exactly the modules a script imports (their names must not change: a moved
    module means an edited script, and every finished corpus re-runs)."""
    import re

    doc = (PACKAGE.parents[1] / "docs" / "development.md").read_text(encoding="utf-8")
    section = doc.split("### Where things are in `src/firescribe/`")[1].split("\n## ")[0]
    listed, italic = set(), set()
    for row in section.splitlines():
        if row.startswith("| ") and not row.startswith("| module"):
            cell = row.split("|")[1]
            listed |= set(re.findall(r"`([^`]+)`", cell))
            italic |= set(re.findall(r"\*`([^`]+)`\*", cell))
    top = {p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"} | {f"{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert top - listed == set(), "modules missing from docs/development.md's map"
    scripts = PACKAGE.parents[1] / "scripts"
    imported_by_scripts = set()
    for script in scripts.glob("*.py"):
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("firescribe."):
                imported_by_scripts.add(node.module.removeprefix("firescribe.").replace(".", "/") + ".py")
    assert italic == imported_by_scripts
