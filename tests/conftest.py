from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

NEEDED = ["ffmpeg", "espeak-ng", "sox"]


def pytest_collection_modifyitems(config, items):
    missing = [t for t in NEEDED if shutil.which(t) is None]
    if missing:
        raise pytest.UsageError(f"tests need {missing} on PATH (Debian: apt-get install ffmpeg espeak-ng sox)")


def snakemake(
    workdir: Path, *args: str, config: dict | None = None, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the workflow as a user would, with .snakemake state kept in ``workdir``."""
    cmd = [
        sys.executable, "-m", "snakemake",
        "-s", str(REPO / "Snakefile"),
        "--directory", str(workdir),
        "--cores", "2",
        "--configfile", str(REPO / "config" / "config.yaml"),
    ]
    if config:
        override = workdir / "test-config.yaml"
        override.write_text(yaml.safe_dump(json.loads(json.dumps(config, default=str))))
        cmd.append(str(override))
    cmd += list(args)
    env = dict(env or os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc
