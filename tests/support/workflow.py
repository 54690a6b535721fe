"""Running the workflow as a user would, from the tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]

# False while a test not marked ``workflow`` runs (tests/conftest.py): such a test is in
# ``make check``, the fast tier, and must not run Snakemake
RUNS_ALLOWED = True


def snakemake(
    workdir: Path, *args: str, config: dict | None = None, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the workflow as a user would, with .snakemake state kept in ``workdir``."""
    if not RUNS_ALLOWED:
        raise AssertionError("this test runs Snakemake but is not marked workflow: tests/conftest.py did not see it call the snakemake helper; mark it @pytest.mark.workflow")
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


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, str]:
    """The job counts of a dry run (``snakemake -n``): rule -> count, and ``total``; empty
    when nothing is to be done."""
    return dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout + proc.stderr, re.M))


def shard_of(results: Path, sample: str) -> str:
    """The shard (firescribe.plumbing.shards) a file was planned in: its plan lists the file."""
    for plan in sorted((results / "work" / "plan").glob("*.json")):
        if sample in json.loads(plan.read_text())["samples"]:
            return plan.stem
    raise AssertionError(f"no plan lists {sample!r}")


def shard_plan(results: Path, sample: str) -> dict:
    """The plan of the shard ``sample`` is in."""
    return json.loads((results / "work" / "plan" / f"{shard_of(results, sample)}.json").read_text())


def file_units(results: Path, sample: str) -> list:
    """A file's units: lists of [start, end] spans."""
    return shard_plan(results, sample)["samples"][sample]["units"]


def chunk_files(results: Path, sample: str) -> list[Path]:
    """The ASR chunk results of the shard ``sample`` is in."""
    return sorted((results / "work" / "asr" / shard_of(results, sample)).glob("*.json"))


def wav_of(results: Path, sample: str) -> Path:
    return results / "work" / "audio" / shard_of(results, sample) / f"{sample}.wav"


def vad_segments(results: Path, sample: str) -> list[tuple[float, float]]:
    from firescribe.plumbing.segments import read_segments

    return read_segments(str(results / "work" / "vad" / f"{shard_of(results, sample)}.tsv")).get(sample, [])
