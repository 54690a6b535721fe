from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers in tests/support

# the finished corpora the workflow tier shares (session-scoped; a test that changes one copies it)
from support.corpora import demo_elsewhere, demo_project  # noqa: E402, F401

MEDIA_TOOLS = ["ffmpeg", "espeak-ng", "sox"]


def pytest_runtest_setup(item):
    """Tests marked ``media_tools`` make or read media: without the tools they fail (never
    skip) saying what to install; the other tests run anyway. Only a test marked ``workflow``
    may run the ``snakemake`` helper (set before the test's fixtures run)."""
    from support import workflow

    workflow.RUNS_ALLOWED = item.get_closest_marker("workflow") is not None
    if item.get_closest_marker("media_tools"):
        missing = [t for t in MEDIA_TOOLS if shutil.which(t) is None]
        if missing:
            pytest.fail(f"this test needs {missing} on PATH (Debian: apt-get install ffmpeg espeak-ng sox)", pytrace=False)


# ---- the workflow tier (tests/support/tiers.py) ------------------------------------------
# A test that runs Snakemake (tests/support/workflow.py's ``snakemake`` helper, or
# ``python -m snakemake``) or a whole benchmark script is marked ``workflow``, found from the
# code it reaches; ``make check`` runs the rest. Running the helper from a test left unmarked
# fails (support.workflow.RUNS_ALLOWED), so the marking cannot silently miss such a test.


def pytest_collection_modifyitems(config, items):
    from support import tiers

    for item in items:
        if item.get_closest_marker("workflow") is None and tiers.runs_workflow(tiers.reached_functions(item)):
            item.add_marker(pytest.mark.workflow)


def pytest_runtest_teardown(item):
    from support import workflow

    workflow.RUNS_ALLOWED = True
