"""Voice activity detection with silero-vad (its ONNX model, run by onnxruntime)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from firescribe.audio import SAMPLE_RATE, open_pcm
from firescribe.io import write_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VadParams:
    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 300
    speech_pad_ms: int = 100
    max_speech_s: float = 30.0


def detect_speech(pcm: np.ndarray, params: VadParams) -> list[tuple[float, float]]:
    """Speech segments (start, end) in seconds. ``pcm`` is int16 at 16 kHz (may be a memmap).

    The audio is converted to float32 once (the only full-length copy); silero-vad then
    walks it in 32 ms windows.
    """
    if len(pcm) < SAMPLE_RATE // 10:
        return []
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    model = load_silero_vad(onnx=True)  # onnxruntime, 1 intra-op thread
    samples = np.asarray(pcm, dtype=np.float32)  # the one full-length float32 copy
    samples /= 32768.0  # in place
    audio = torch.from_numpy(samples)
    next_report = [10.0]

    def progress(percent: float) -> None:
        if percent >= next_report[0]:
            log.info("vad: %3.0f%% of %.0f s", percent, len(pcm) / SAMPLE_RATE)
            next_report[0] += 10.0

    stamps = get_speech_timestamps(
        audio,
        model,
        threshold=params.threshold,
        sampling_rate=SAMPLE_RATE,
        min_speech_duration_ms=params.min_speech_ms,
        max_speech_duration_s=params.max_speech_s,
        min_silence_duration_ms=params.min_silence_ms,
        speech_pad_ms=params.speech_pad_ms,
        progress_tracking_callback=progress,
    )
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def write_segments(path: str, segments: list[tuple[float, float]]) -> None:
    lines = ["start\tend"] + [f"{a:.3f}\t{b:.3f}" for a, b in segments]
    write_text(path, "\n".join(lines) + "\n")


def read_segments(path: str) -> list[tuple[float, float]]:
    with open(path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f.readlines()[1:] if line.strip()]
    return [(float(a), float(b)) for a, b in rows]


def run_vad(wav: str, out_tsv: str, params: VadParams) -> list[tuple[float, float]]:
    segments = detect_speech(open_pcm(wav), params)
    write_segments(out_tsv, segments)
    log.info("vad %s: %d segments, %.1f s speech", wav, len(segments), sum(b - a for a, b in segments))
    return segments
