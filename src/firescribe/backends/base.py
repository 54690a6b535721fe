"""The backend interface: a batch of audio units in, timed text segments out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from firescribe.guard import GuardParams


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
    name: str

    def describe(self) -> dict:
        """Backend name, engine, model id and decoding options (for provenance)."""

    def transcribe(self, batch: list[np.ndarray], language: str | None) -> list[list[Segment]]:
        """Transcribe float32 16 kHz mono units; one list of segments per unit."""

    def redecode(self, unit: np.ndarray, language: str | None, guard: GuardParams) -> list[Segment]:
        """Decode one unit that tripped the guard a different way (firescribe.guard)."""
