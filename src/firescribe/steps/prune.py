"""Work files no current shard uses: ``snakemake --cores 1 orphans`` lists them,
``snakemake --cores 1 prune`` removes them (rules/prune.smk).

Shards regroup when files are added or removed (firescribe.plumbing.shards); the old shards' work
files, logs and benchmarks stay behind (and the report would count the old benchmarks), and
so do the per-file store's entries (firescribe.plumbing.store) that no current output uses. An orphan
is:

* a shard output, log or benchmark of a shard the corpus no longer has
  (``results/work/{audio,vad,plan,asr,merged}/<shard>...``, ``results/{logs,benchmarks}/<step>/<shard>...``);
* an ASR chunk result beyond its shard's current plan;
* a ``results/work/files/refs/...keys`` file whose output is gone or an orphan;
* a store entry that no remaining ``.keys`` file names.

Run it when no run is going: a running job's store entries are named by its ``.keys`` file
only when it ends.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from firescribe.plumbing.io import write_text
from firescribe.plumbing.store import REFS, STORE_DIR

# per step: the shard outputs under results/work, and the steps' logs and benchmarks
SHARD_OUTPUTS = ("audio", "vad", "plan", "asr", "merged")
SHARD_STEPS = ("extract", "vad", "plan", "asr", "merge")
STAGES = ("extract", "vad", "asr")


def _shard_name(path: Path) -> str:
    """The shard a step's output, log or benchmark is of (its name less the file's suffix)."""
    if path.is_dir():
        return path.name
    return next((path.name.removesuffix(s) for s in (".tsv", ".json", ".log") if path.name.endswith(s)), path.name)


def orphans(results: str | Path, shards: dict[str, list[str]]) -> list[Path]:
    """The orphans (see module doc) under ``results`` for the corpus's current ``shards``
    (shard name -> its samples), sorted."""
    results = Path(results)
    work = results / "work"
    current = set(shards)
    found: set[Path] = set()

    def shard_entries(folder: Path):
        if folder.is_dir():
            for p in folder.iterdir():
                if not p.name.startswith("."):
                    yield p

    for stage in SHARD_OUTPUTS:
        found |= {p for p in shard_entries(work / stage) if _shard_name(p) not in current}
    for base in ("logs", "benchmarks"):
        for step in SHARD_STEPS:
            found |= {p for p in shard_entries(results / base / step) if _shard_name(p) not in current}
    for shard in current:  # chunks beyond the shard's current plan
        plan = work / "plan" / f"{shard}.json"
        if plan.is_file():
            n = len(json.loads(plan.read_text(encoding="utf-8"))["chunks"])
            for folder in (work / "asr" / shard, results / "logs" / "asr" / shard, results / "benchmarks" / "asr" / shard):
                found |= {p for p in shard_entries(folder) if p.stem.isdigit() and int(p.stem) >= n}

    def gone(output: Path) -> bool:
        return not output.exists() or any(output == p or p in output.parents for p in found)

    live: set[str] = set()
    refs = work / STORE_DIR / REFS
    for ref in sorted(refs.rglob("*.keys")) if refs.is_dir() else []:
        output = work / ref.relative_to(refs).with_suffix("")
        if gone(output):
            found.add(ref)
        else:
            live |= set(ref.read_text(encoding="utf-8").split())
    for stage in STAGES:
        folder = work / STORE_DIR / stage
        for entry in folder.glob("*/*") if folder.is_dir() else []:
            if not entry.name.startswith(".") and f"{stage}/{entry.name.split('.', 1)[0]}" not in live:
                found.add(entry)
    return sorted(found)


def size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def prune(results: str | Path, shards: dict[str, list[str]], delete: bool, log_path: str | Path | None = None) -> list[Path]:
    """Print the orphans (and remove them where ``delete``), and write the same lines to
    ``log_path``; return them."""
    found = orphans(results, shards)
    lines, total = [], 0
    for path in found:
        total += size(path)
        lines.append(f"{'removed' if delete else 'orphan'}: {path}")
        if delete:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    what = "removed" if delete else "no current shard uses them; `snakemake --cores 1 prune` removes them"
    lines.append(f"{len(found)} orphaned work files and store entries ({total / 2**20:.1f} MB): {what}" if found else "no orphaned work files")
    print("\n".join(lines))
    if log_path is not None:
        write_text(str(log_path), "\n".join(lines) + "\n")
    return found
