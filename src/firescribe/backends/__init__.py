"""ASR backends behind one small interface (see ``base.Backend``)."""

from __future__ import annotations

from firescribe.backends.base import Backend, Segment, Word
from firescribe.hotwords import Hotword

DEFAULT_MAX_UNIT_S = {"whisper": 30.0, "fireredasr-aed": 60.0}
# Pauses merged into a unit. Whisper pads every clip to 30 s, so silence inside a unit costs
# nothing and fewer, fuller clips decode faster with more context (measured in
# benchmarks/whisper_backend.py); FireRedASR-AED's cost grows with the unit, silence included.
DEFAULT_MAX_GAP_S = {"whisper": 3.0, "fireredasr-aed": 1.0}
# Units of speech only (pauses cut out, STITCH_PAD_MS kept around each VAD segment), as
# faster-whisper's batched pipeline feeds whisper: fewer, fuller clips and a lower word
# error rate on our benchmark (benchmarks/whisper_backend.py). FireRedASR-AED keeps contiguous
# audio (how it was trained and evaluated; its accuracy cannot be measured here).
DEFAULT_STITCH = {"whisper": True, "fireredasr-aed": False}
STITCH_PAD_MS = 400  # faster-whisper's VAD speech_pad_ms


def load_backend(name: str, options: dict, threads: int, device: str = "cpu", hotwords: list[Hotword] = ()) -> Backend:
    """Instantiate the backend ``name`` with its config section ``options``, for a file with
    these ``hotwords`` (firescribe.hotwords)."""
    if name == "whisper":
        from firescribe.backends.whisper import WhisperBackend

        return WhisperBackend(options, threads=threads, device=device, hotwords=hotwords)
    if name == "fireredasr-aed":
        from firescribe.backends.fireredasr import FireRedAedBackend

        return FireRedAedBackend(options, threads=threads, device=device, hotwords=hotwords)
    raise ValueError(f"unknown ASR backend {name!r}; choose one of {sorted(DEFAULT_MAX_UNIT_S)}")


__all__ = ["Backend", "Segment", "Word", "load_backend", "DEFAULT_MAX_UNIT_S", "DEFAULT_MAX_GAP_S", "DEFAULT_STITCH", "STITCH_PAD_MS"]
