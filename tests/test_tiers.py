"""The workflow tier is found from the code a test reaches (tests/support/tiers.py), and a test
outside it cannot run Snakemake through the helper."""

import subprocess
import sys
from types import SimpleNamespace

import pytest
from support import workflow
from support.tiers import reached_functions, runs_workflow
from support.workflow import REPO


def dry_run(tmp_path):
    return workflow.snakemake(tmp_path, "-n")


class Examples:
    """What tests do (a class: the search does not look into one, so these tests stay fast)."""

    @staticmethod
    def _runs_the_helper(tmp_path):
        return workflow.snakemake(tmp_path, "-n")

    @staticmethod
    def _through_a_helper_of_the_module(tmp_path):
        return dry_run(tmp_path)

    @staticmethod
    def _imports_the_helper_inside():
        from support.workflow import snakemake

        return snakemake

    @staticmethod
    def _runs_snakemake_itself(tmp_path):
        return subprocess.run([sys.executable, "-m", "snakemake", "-n"], cwd=tmp_path)

    @staticmethod
    def _runs_a_benchmark():
        return subprocess.run([sys.executable, str(REPO / "benchmarks" / "vad.py")])

    @staticmethod
    def _a_unit_test():
        return sorted({3, 1, 2}) + [REPO.name]


@pytest.mark.parametrize("function", [Examples._runs_the_helper, Examples._through_a_helper_of_the_module, Examples._imports_the_helper_inside, Examples._runs_snakemake_itself, Examples._runs_a_benchmark])
def test_a_test_that_runs_a_workflow_is_found(function):
    assert runs_workflow([function])


def test_a_unit_test_is_not():
    assert runs_workflow([Examples._a_unit_test]) is None


def test_a_fixture_that_runs_the_workflow_counts():
    """A test whose fixture (module-scoped, say, shared by many tests) runs the workflow."""
    fixture = SimpleNamespace(func=Examples._through_a_helper_of_the_module)
    item = SimpleNamespace(function=Examples._a_unit_test, fixturenames=["corpus", "tmp_path"], _fixtureinfo=SimpleNamespace(name2fixturedefs={"corpus": [fixture]}))
    assert runs_workflow(reached_functions(item))
    item.fixturenames = ["tmp_path"]
    assert runs_workflow(reached_functions(item)) is None


def test_the_suite_marks_what_it_collected(request):
    """As this session collected them (tests/conftest.py): a test of the workflow is marked,
    this file's unit tests are not."""
    marked = {item.nodeid: item.get_closest_marker("workflow") is not None for item in request.session.items}
    assert not marked.get("tests/test_tiers.py::test_a_unit_test_is_not", False)
    for test in ("tests/test_workflow_e2e.py::test_second_run_has_nothing_to_do", "tests/test_dataset.py::test_each_file_gets_its_own_words[packed]"):
        assert marked.get(test, True), test  # when collected in this session (its fixture by name)


def test_the_helper_refuses_a_test_outside_the_workflow_tier(tmp_path):
    with pytest.raises(AssertionError, match="not marked workflow"):
        Examples._runs_the_helper(tmp_path)
