"""The test tiers (tests/conftest.py marks them): ``workflow``, the tests that run Snakemake or a
whole benchmark script, found from the code each test reaches, so that a new test needs no
marker of its own; ``make check`` runs the others."""

from __future__ import annotations

import inspect
import types
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def runs_workflow(functions) -> str | None:
    """Why the code these functions reach runs a workflow, or None: a call of the
    ``snakemake`` helper (imported at module level or in the function), ``-m snakemake``, or a
    script of benchmarks/. Followed: the functions of tests/ (and tests/support/) they name."""
    from support import workflow

    seen: set = set()
    todo = list(functions)
    while todo:
        func = inspect_unwrap(todo.pop())
        code = getattr(func, "__code__", None)
        if code is None or code in seen:
            continue
        seen.add(code)
        names = func.__globals__
        for c in _code_objects(code):
            if "support.workflow" in c.co_names and "snakemake" in c.co_names:
                return f"{func.__qualname__} imports the snakemake helper"
            for const in c.co_consts:
                if const == "snakemake":
                    return f"{func.__qualname__} runs python -m snakemake"
                if const == "benchmarks":
                    return f"{func.__qualname__} runs a benchmark script"
            for name in c.co_names:
                target = inspect_unwrap(names.get(name))
                if target is workflow.snakemake or (target is workflow and "snakemake" in c.co_names):
                    return f"{func.__qualname__} calls the snakemake helper"
                if callable(target) and _in_tests(target):
                    todo.append(target)
    return None


def inspect_unwrap(obj):
    return inspect.unwrap(obj) if callable(obj) else obj


def _in_tests(func) -> bool:
    path = getattr(getattr(func, "__code__", None), "co_filename", "")
    return bool(path) and Path(path).resolve().is_relative_to(TESTS) and Path(path).resolve() != Path(__file__).resolve()


def reached_functions(item) -> list:
    """The test function and the functions of every fixture it uses (directly or not; and,
    for a test that takes its fixture by name with ``request.getfixturevalue(param)``, the
    fixtures its parameters name)."""
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    names = list(getattr(item, "fixturenames", []))
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        names += [v for v in callspec.params.values() if isinstance(v, str)]
    for name in names:
        defs = info.name2fixturedefs.get(name) if info else None
        if not defs and callspec is not None:
            defs = item.session._fixturemanager.getfixturedefs(name, item)
        functions += [fixturedef.func for fixturedef in defs or ()]
    return [f for f in functions if f is not None]
