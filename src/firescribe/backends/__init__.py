"""ASR backends behind one small interface (see ``base.Backend``); what the workflow knows of
each, and their options, are in firescribe.settings (``BACKENDS``)."""

from __future__ import annotations

from firescribe.backends.base import Backend, Segment, Word
from firescribe.hotwords import Hotword
from firescribe.settings import BackendOptions, FireRedAedOptions, WhisperOptions


def load_backend(name: str, options: BackendOptions, threads: int, device: str = "cpu", hotwords: list[Hotword] = ()) -> Backend:
    """Instantiate the backend ``name`` with its ``options``, for a file with these
    ``hotwords`` (firescribe.hotwords)."""
    if name == "whisper" and isinstance(options, WhisperOptions):
        from firescribe.backends.whisper import WhisperBackend

        return WhisperBackend(options, threads=threads, device=device, hotwords=hotwords)
    if name == "fireredasr-aed" and isinstance(options, FireRedAedOptions):
        from firescribe.backends.fireredasr import FireRedAedBackend

        return FireRedAedBackend(options, threads=threads, device=device, hotwords=hotwords)
    raise ValueError(f"unknown ASR backend {name!r} or options {type(options).__name__} not its own")


__all__ = ["Backend", "Segment", "Word", "load_backend"]
