"""The 16 kHz mono 16-bit WAVs the extract step writes, read as memory maps: what the VAD,
plan, ASR and merge steps read (apart from extraction, firescribe.steps.extract)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000


def _data_offset_and_frames(path: str | Path) -> tuple[int, int]:
    with open(path, "rb") as fh:
        with wave.open(fh) as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1 or w.getframerate() != SAMPLE_RATE:
                raise ValueError(f"{path}: expected 16 kHz mono 16-bit PCM WAV")
            n = w.getnframes()
            w.readframes(0)  # positions the file at the start of the sample data
            return fh.tell(), n


def num_samples(path: str | Path) -> int:
    return _data_offset_and_frames(path)[1]


def open_pcm(path: str | Path) -> np.ndarray:
    """The WAV's samples as a read-only int16 memory map (no copy, any length)."""
    offset, n = _data_offset_and_frames(path)
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    return np.memmap(path, dtype="<i2", mode="r", offset=offset, shape=(n,))


def to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 samples -> float32 in [-1, 1)."""
    return pcm.astype(np.float32) / 32768.0


def read_span(pcm: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """float32 samples of [start_s, end_s) from a PCM memory map."""
    a = max(0, int(round(start_s * SAMPLE_RATE)))
    b = min(len(pcm), int(round(end_s * SAMPLE_RATE)))
    return to_float(np.asarray(pcm[a:b]))
