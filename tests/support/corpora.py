"""Finished corpora the workflow tier shares (session-scoped fixtures, which tests/conftest.py
imports so that every test file has them):
each is built once per test session, and a test that changes one (runs Snakemake on it,
deletes or adds a file) works on a copy (``copy_project``), so the tests stay independent
of their order."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.workflow import REPO, snakemake

DEMO_MEDIA = REPO / "example" / "media"


def copy_project(src: Path, dest: Path) -> Path:
    """A copy of a finished project folder (media, results, Snakemake's records in
    .snakemake) at ``dest``, every file's modification time kept (shutil.copy2), so that
    Snakemake finds the copy as finished as the original."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def demo_elsewhere(tmp_path_factory) -> dict:
    """The demo media run as docs/usage.md's ``--directory`` command runs it: from another
    folder, outputs under the given one, the config found beside the Snakefile."""
    root = tmp_path_factory.mktemp("demo_elsewhere")
    elsewhere, run = root / "elsewhere", root / "run1"
    elsewhere.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2",
         "--directory", str(run), "--config", f"input={DEMO_MEDIA}"],
        cwd=elsewhere, capture_output=True, text=True,
    )
    return {"elsewhere": elsewhere, "run": run, "proc": proc}


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory) -> dict:
    """A project folder: the demo media in ``videos/`` (given relative to the project, which is
    Snakemake's --directory), finished with the shipped config."""
    project = tmp_path_factory.mktemp("demo_project") / "project"
    shutil.copytree(DEMO_MEDIA, project / "videos")
    config = {"input": "videos"}
    snakemake(project, config=config)
    return {"project": project, "config": config}
