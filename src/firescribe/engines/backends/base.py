"""The backend interface: a batch of audio units in, timed text segments out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from firescribe.text.guard import GuardParams


@dataclass
class Word:
    start: float  # seconds, relative to the unit start
    end: float
    text: str
    confidence: float | None = None


@dataclass
class Segment:
    start: float  # seconds, relative to the unit start
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    # the decoder's own confidence, where the backend gives it (whisper): for the guard
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


class Backend(Protocol):
    """An ASR engine. A new backend: this class (its module named in
    ``firescribe.settings.BACKENDS``), an options dataclass there, and a schema section."""

    name: str

    @staticmethod
    def model_files(options) -> tuple[str, Path, list[str]]:
        """The model's id, its folder, and the files whose checksum identifies it."""

    @staticmethod
    def model_word_times(folder: Path) -> bool:
        """Whether the model in ``folder`` gives word times (only for a backend whose
        ``BackendFacts.word_times`` is None)."""

    def describe(self) -> dict:
        """Backend name, engine, model id and decoding options (for provenance)."""

    def transcribe(self, batch: list[np.ndarray], language: str | None) -> list[list[Segment]]:
        """Transcribe float32 16 kHz mono units; one list of segments per unit."""

    def redecode(self, unit: np.ndarray, language: str | None, guard: GuardParams, seed: int) -> tuple[list[Segment], dict]:
        """Decode one unit that tripped the guard a different way (firescribe.text.guard); any
        sampling draws from ``seed`` (``firescribe.steps.asr.unit_seed``). Also returns how it
        decoded: ``{"sampled": false}``, or what was sampled and the seed."""
