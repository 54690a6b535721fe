"""ASR backends behind one small interface (see ``base.Backend``)."""

from __future__ import annotations

from firescribe.backends.base import Backend, Segment, Word

DEFAULT_MAX_UNIT_S = {"whisper": 30.0, "fireredasr-aed": 60.0}


def load_backend(name: str, options: dict, threads: int, device: str = "cpu") -> Backend:
    """Instantiate the backend ``name`` with its config section ``options``."""
    if name == "whisper":
        from firescribe.backends.whisper import WhisperBackend

        return WhisperBackend(options, threads=threads, device=device)
    if name == "fireredasr-aed":
        from firescribe.backends.fireredasr import FireRedAedBackend

        return FireRedAedBackend(options, threads=threads, device=device)
    raise ValueError(f"unknown ASR backend {name!r}; choose one of {sorted(DEFAULT_MAX_UNIT_S)}")


__all__ = ["Backend", "Segment", "Word", "load_backend", "DEFAULT_MAX_UNIT_S"]
