"""Running the workflow as a user would, from the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


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
