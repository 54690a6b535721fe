"""The per-file store: a file's extraction, VAD and ASR results kept by what shapes them,
not by the shard (group of files) that made them.

Shards regroup when files are added or removed (firescribe.plumbing.shards), and Snakemake then
re-runs the jobs of the new shard for all its files. Those jobs look here first, so that a
file already done costs nothing but a lookup: the extract job hardlinks the stored WAV and
JSON instead of running ffmpeg, the VAD job takes a file's stored segments, the ASR job a
model input's stored result (and loads no model where all of its chunk's are stored).

Layout, beside the shard outputs under ``results/work`` and outside the DAG (a dry run
never reads it)::

    results/work/files/<stage>/<key[:2]>/<key>.<ext>   an entry
    results/work/files/refs/<output>.keys             the keys a job's output used

``key`` is a hash of everything that shapes the stage's result (``entry_key``): for
extraction the sample, the media path, its size and mtime_ns and the extract options; for
VAD the WAV's content and the VAD params; for ASR the input's audio, its place in its
file, the ASR params (backend, model options, guard), the model files' checksum (model_info),
the language and the hotword lists' entries (and, for a backend whose results depend on the
batch, the batch: ``BackendFacts.batch_shapes_results``).

Every entry is written under a temporary name and renamed into place (or hardlinked to a
temporary name and renamed), so a reader sees a complete entry or none; two jobs that write
the same key write the same content, and the last rename wins. An entry is read only after
it is complete. ``firescribe prune`` (firescribe.steps.prune) removes the entries no current
output's ``.keys`` file names.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from firescribe.plumbing.io import current_umask

# a new layout of an entry, or a change of what it holds, changes every key
STORE_VERSION = 1
STORE_DIR = "files"  # under results/work
REFS = "refs"


def entry_key(stage: str, *what) -> str:
    """The key of a ``stage``'s entry: a hash of ``what`` (JSON: dicts with sorted keys,
    tuples as lists), the stage and STORE_VERSION."""
    text = json.dumps([STORE_VERSION, stage, *what], sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def media_identity(path: str) -> list:
    """What tells a media file's content apart without reading it: its path as given, its
    size and modification time (ns). A missing file: its path alone (extraction reports it)."""
    try:
        st = os.stat(path)
    except OSError:
        return [str(path), None, None]
    return [str(path), st.st_size, st.st_mtime_ns]


def content_digest(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """A hash of a file's bytes (a WAV of 2 hours, 230 MB: about 0.3 s)."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def workflow_store(output: str | os.PathLike, depth: int) -> Store | None:
    """The store of the workflow whose job writes ``output``: ``depth`` folders up from it is
    ``results/work`` (``results/work/vad/S.tsv``: depth 2). None where ``output`` is not in
    such a folder (a library call outside the workflow keeps nothing)."""
    path = Path(os.path.abspath(output))
    work = path.parents[depth - 1] if depth <= len(path.parents) else None
    if work is None or work.name != "work" or work.parent.name != "results":
        return None
    return Store(work / STORE_DIR, output=path.relative_to(work))


class Store:
    """Entries under ``root`` (``results/work/files``); ``output``: the job's output, relative
    to ``results/work``, whose keys ``remember`` records."""

    def __init__(self, root: str | os.PathLike, output: str | os.PathLike | None = None):
        self.root = Path(root)
        self.output = Path(output) if output is not None else None
        self.used: list[str] = []

    def path(self, stage: str, key: str, ext: str) -> Path:
        return self.root / stage / key[:2] / f"{key}.{ext}"

    def has(self, stage: str, key: str, *exts: str) -> bool:
        return all(self.path(stage, key, ext).is_file() for ext in exts)

    def _tmp(self, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        os.unlink(tmp)  # a free name beside the target
        return Path(tmp)

    def put_file(self, stage: str, key: str, ext: str, src: str | os.PathLike) -> None:
        """Keep the complete file ``src`` as the entry: hardlinked (no copy) where the file
        system allows it, else copied; renamed into place."""
        target = self.path(stage, key, ext)
        tmp = self._tmp(target)
        try:
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
                os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()

    def put_json(self, stage: str, key: str, obj) -> None:
        target = self.path(stage, key, "json")
        tmp = self._tmp(target)
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(obj, f, ensure_ascii=False, sort_keys=True)
            os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()

    def get_json(self, stage: str, key: str):
        """The entry, or None where there is none (or it cannot be read)."""
        try:
            with open(self.path(stage, key, "json"), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def get_file(self, stage: str, key: str, ext: str, dst: str | os.PathLike) -> bool:
        """Put the entry at ``dst`` (hardlink, else copy; atomically); False where there is none."""
        src = self.path(stage, key, ext)
        dst = Path(dst)
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
        os.close(fd)
        os.unlink(tmp)
        try:
            try:
                os.link(src, tmp)
            except FileNotFoundError:
                return False
            except OSError:
                try:
                    shutil.copyfile(src, tmp)
                except FileNotFoundError:
                    return False
            os.replace(tmp, dst)
            return True
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def use(self, stage: str, key: str) -> None:
        self.used.append(f"{stage}/{key}")

    def remember(self) -> None:
        """Record the keys this job's output uses (``refs/<output>.keys``), for ``prune``."""
        if self.output is None:
            return
        target = self.root / REFS / f"{self.output}.keys"
        tmp = self._tmp(target)
        try:
            tmp.write_text("".join(f"{k}\n" for k in sorted(set(self.used))), encoding="utf-8")
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
