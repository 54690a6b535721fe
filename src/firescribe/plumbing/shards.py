"""Shards: the files one job of the extract, VAD, plan and merge steps serves.

A dataset of many short files would otherwise cost a Python process per file and step (and
a model load per file for ASR). Short files are therefore processed together, in shards
sized by their bytes (the only measure of audio known before decoding): about
``ShardParams.files`` short files, or fewer where files are bigger; a file of at least
``ShardParams.megabytes`` is a shard of its own, and keeps the chunk-level ASR jobs of a
long file.

Shards must not move when the corpus changes, or adding one file would re-run the corpus.
So a shard boundary is a property of the file before it (content-defined chunking, as
rsync and restic cut their blocks): the file ends its shard when a hash of its sample id,
read as a number in [0, 1), falls below its share of a shard. Adding a file re-runs only
the shard it joins (or the two halves of the one it splits); removing one re-runs only the
shard it leaves. Shard sizes vary as a geometric law: a tenth of the shards hold more than
2.3 times ``files``, one in a hundred more than 4.6 times; no cap, as a cap would move the
boundaries after it. A shard is named after its first file, so a shard of one file has that
file's name.

Files share a shard only if they share the decoding context: language and hotword lists.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the sample table's type only: settings import this module in every job
    import pandas as pd

MB = 1 << 20
# files an extract or VAD job handles at once (a thread each: ffmpeg processes, onnxruntime
# sessions), so that one shard of short files keeps a many-core box busy; Snakemake lowers a
# job's threads to --cores, and a cluster job asks for this many CPUs at most
FILE_WORKERS = 8


@dataclass(frozen=True)
class ShardParams:
    """The config's ``shards`` section."""

    files: int  # about this many short files a shard
    megabytes: float  # a file this big is a shard of its own; smaller ones fill a shard by bytes


def _unit_hash(sample: str) -> float:
    """A number in [0, 1) from the sample id alone (stable across runs and machines)."""
    digest = hashlib.blake2b(sample.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def media_bytes(path: str) -> int:
    """Size of a media file; 0 where it cannot be read (its extraction then reports why)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def shard_runs(samples: list[str], sizes: list[int], params: ShardParams) -> list[list[str]]:
    """Cut ``samples`` (in order, with their byte ``sizes``) into shards (see module doc)."""
    shards: list[list[str]] = [[]]
    big = params.megabytes * MB
    for sample, size in zip(samples, sizes):
        if size >= big:  # a shard of its own
            if shards[-1]:
                shards.append([])
            shards[-1].append(sample)
            shards.append([])
            continue
        shards[-1].append(sample)
        share = max(1.0 / params.files, size / big)  # the chance this file ends its shard
        if _unit_hash(sample) < share:
            shards.append([])
    return [s for s in shards if s]


def context_key(language, hotwords) -> tuple[str, str]:
    """What files must agree on to be decoded together: language and own hotword list."""
    return (language if isinstance(language, str) else "", hotwords if isinstance(hotwords, str) else "")


def make_shards(samples: pd.DataFrame, params: ShardParams) -> dict[str, list[str]]:
    """Shard name (its first sample) -> its samples, for a sample table (firescribe.plumbing.samples):
    files grouped by decoding context, each group sorted by sample id and cut into shards."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    columns = (samples[c].tolist() for c in ("sample", "path", "language", "hotwords"))
    for sample, path, language, hotwords in zip(*columns):
        groups.setdefault(context_key(language, hotwords), []).append((sample, path))
    shards: dict[str, list[str]] = {}
    for key in sorted(groups):
        members = sorted(groups[key])
        for shard in shard_runs([s for s, _ in members], [media_bytes(p) for _, p in members], params):
            shards[shard[0]] = shard
    return shards
