"""Where the workflow keeps what the merge step writes: each file's transcripts (one file per
format under ``results/transcripts/``) and each shard's merge record; and how a deleted
transcript is noticed (the merge rule's ``transcripts`` param, ``forget_incomplete_merge``).
The Snakefile's rules and the console read these; the merge step writes the files."""

from __future__ import annotations

import functools
import os

FORMATS = ("json", "txt", "srt", "vtt", "tsv")  # the transcript files of each input

TRANSCRIPTS = "results/transcripts"  # the transcripts' folder, under the working directory


def transcript_paths(sample: str) -> dict[str, str]:
    """A file's transcripts, format -> path."""
    return {fmt: f"{TRANSCRIPTS}/{sample}.{fmt}" for fmt in FORMATS}


def merged_record(shard: str) -> str:
    """The merge job's declared output for a shard (``write_merged``)."""
    return f"results/work/merged/{shard}.tsv"


@functools.lru_cache(maxsize=1)
def _transcripts_listing(mtime_ns: int) -> frozenset[str]:
    """The transcripts folder's names as of its modification time ``mtime_ns``: read once
    per change of the folder, not once per shard (50,000 names take ~20 ms to list)."""
    return frozenset(os.listdir(TRANSCRIPTS))


def missing_transcripts(samples: list[str]) -> list[str]:
    """The transcripts of these files that are not there (someone deleted them)."""
    try:
        present = _transcripts_listing(os.stat(TRANSCRIPTS).st_mtime_ns)
    except FileNotFoundError:
        present = frozenset()
    return [p for s in samples for p in transcript_paths(s).values() if os.path.basename(p) not in present]


def transcripts_param(samples: list[str], dry_run: bool) -> dict:
    """The merge rule's ``transcripts`` param: sample -> format -> path; in a dry run, with
    the missing ones under ``MISSING`` if there are any, so that the dry run lists the merge
    (Snakemake re-runs a job whose params changed) and writes nothing. A real run records
    the param as it always was: ``forget_incomplete_merge`` has it merge again.

    Transcripts are not declared as Snakemake outputs: Snakemake checks every declared
    output of a job against every target, so merge jobs that each write thousands of files
    would make building the DAG quadratic in the corpus. A merge job declares its shard's
    record instead, and writes the transcripts beside it."""
    paths = {sample: transcript_paths(sample) for sample in samples}
    missing = missing_transcripts(samples) if dry_run else []
    return {**paths, MISSING: missing} if missing else paths


# the key of ``transcripts_param`` that lists missing transcripts (no sample is named so:
# firescribe.plumbing.samples keeps letters, digits, '.', '-' and '_')
MISSING = "(missing)"


def forget_incomplete_merge(shard: str, samples: list[str]) -> list[str]:
    """For a real run (never a dry run, ``--lint`` or ``--report``: the rule calls it only
    when executing): remove the merge record of a shard one of whose transcripts is missing,
    so that Snakemake merges it again as it would redo a deleted output. Called as an input
    function (before Snakemake looks at the record); no input: []."""
    record = merged_record(shard)
    if os.path.exists(record) and missing_transcripts(samples):
        os.remove(record)
    return []
