"""silero-vad, one of the VADs (firescribe.settings.VADS): its ONNX model, run by onnxruntime,
and its segment rules, without importing torch (which silero-vad's package loads)."""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from firescribe.plumbing.pcm import SAMPLE_RATE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VadParams:
    """The config's ``vad`` section (silero-vad's ``get_speech_timestamps`` options)."""

    threshold: float
    min_speech_ms: int
    min_silence_ms: int
    speech_pad_ms: int
    # None: no limit. Speech longer than a unit is cut by the plan step at its quietest point;
    # silero's own limit cuts at its last pause of >= 98 ms, or mid-word where speech has none.
    max_speech_s: float | None

    def params(self) -> dict:
        """As the vad rule's params (firescribe.settings.Settings.vad_params)."""
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict) -> VadParams:
        return cls(**params)

    @property
    def pad_ms(self) -> int:
        """Audio added on each side of a speech segment."""
        return self.speech_pad_ms


# silero-vad's sequence model at 16 kHz: a probability per frame of FRAME samples (32 ms),
# each frame heard with the CONTEXT samples before it
MODEL_FILE = "silero_vad_16k_sequence.onnx"
FRAME, CONTEXT = 512, 64
STATE = (1, 1, 128)  # LSTM h and c
# frames per ONNX call: ~2 min of audio, 9 MB of input
FRAMES_PER_CALL = 4096
# silero's segment rules: the pause threshold sits this far below the speech threshold, and
# a speech segment over max_speech_s is cut at its longest pause of more than
# CUT_PAUSE_MS (where it has none: right there)
HYSTERESIS = 0.15
CUT_PAUSE_MS = 98


def model_path() -> str:
    """The sequence model shipped in the silero-vad wheel, found without importing the
    package (its __init__ loads torch: ~1.5 s per VAD job)."""
    spec = importlib.util.find_spec("silero_vad")
    return os.path.join(spec.submodule_search_locations[0], "data", MODEL_FILE)


def frame_blocks(samples: np.ndarray, frames_per_block: int) -> Iterator[np.ndarray]:
    """[frames, CONTEXT + FRAME] model inputs for float32 ``samples``: each frame with the
    last CONTEXT samples of the frame before (zeros before the first); the last frame
    zero-padded."""
    n_frames = -(-len(samples) // FRAME)
    context = np.zeros(CONTEXT, dtype=np.float32)
    for first in range(0, n_frames, frames_per_block):
        count = min(frames_per_block, n_frames - first)
        frames = np.zeros((count, FRAME), dtype=np.float32)
        piece = samples[first * FRAME : (first + count) * FRAME]
        frames.reshape(-1)[: len(piece)] = piece
        block = np.empty((count, CONTEXT + FRAME), dtype=np.float32)
        block[:, CONTEXT:] = frames
        block[0, :CONTEXT] = context
        block[1:, :CONTEXT] = frames[:-1, -CONTEXT:]
        context = frames[-1, -CONTEXT:].copy()
        yield block


def silero_session():
    """silero-vad's sequence model in onnxruntime, one thread (as silero-vad runs it)."""
    import onnxruntime as ort  # ~85 ms: the Snakefile's parse and most jobs import this module

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(model_path(), sess_options=options, providers=["CPUExecutionProvider"])


def speech_probabilities(samples: np.ndarray, session=None) -> np.ndarray:
    """Silero speech probability per 32 ms frame of 16 kHz float32 ``samples``.

    Runs silero-vad's sequence model (the same network as its streaming model, bit-exact
    probabilities) one ONNX call per block of frames, carrying the LSTM state between
    blocks, instead of one Python call per frame: ~5x faster, and memory stays the audio
    plus one block. ``session``: a ``silero_session()`` to reuse across files."""
    session = session or silero_session()
    h, c = np.zeros(STATE, dtype=np.float32), np.zeros(STATE, dtype=np.float32)
    probs, done, next_report = [], 0, 0.1
    for block in frame_blocks(samples, FRAMES_PER_CALL):
        p, h, c = session.run(["speech_probs", "hn", "cn"], {"input": block, "h": h, "c": c})
        probs.append(p.reshape(-1))
        done += len(block)
        if done * FRAME >= next_report * len(samples):
            log.info("vad: %3.0f%% of %.0f s", min(100.0, 100.0 * done * FRAME / len(samples)), len(samples) / SAMPLE_RATE)
            next_report += 0.1
    return np.concatenate(probs) if probs else np.zeros(0, dtype=np.float32)


def speech_segments(probs: list[float], params: VadParams, n_samples: int) -> list[tuple[int, int]]:
    """Speech segments (first sample, end sample) from per-frame speech probabilities, by
    silero-vad's rules (``get_speech_timestamps``; equal results tested against it):

    * speech starts at a frame >= ``threshold`` and lasts until a pause, frames below
      ``threshold - 0.15``, of at least ``min_silence_ms``; segments of at most
      ``min_speech_ms`` are dropped;
    * a segment longer than ``max_speech_s`` (less the padding) is cut at its longest pause
      of over 98 ms, the next one starting where that pause ends; with no such pause, cut
      at the current frame;
    * finally each segment gets ``speech_pad_ms`` on both sides, or half the pause where
      two segments are closer than twice that."""
    on, off = params.threshold, max(params.threshold - HYSTERESIS, 0.01)
    ms = SAMPLE_RATE / 1000
    min_speech, min_silence, pad = params.min_speech_ms * ms, params.min_silence_ms * ms, params.speech_pad_ms * ms
    max_speech = SAMPLE_RATE * params.max_speech_s - FRAME - 2 * pad if params.max_speech_s else math.inf
    segments: list[list[int]] = []
    start = pause = None  # where the current speech, and the current pause inside it, began
    pauses: list[tuple[int, int]] = []  # (start, length) of the pauses a long segment may be cut at
    for i, p in enumerate(probs):
        t = i * FRAME
        if p >= on and pause is not None:  # speech again: the pause is over
            if t - pause > CUT_PAUSE_MS * ms:
                pauses.append((pause, t - pause))
            pause = None
        if start is None:
            if p >= on:
                start = t
            continue
        if t - start > max_speech:
            if not pauses:
                segments.append([start, t])
                start = pause = None
                continue
            cut, length = max(pauses, key=lambda x: x[1])  # the first of the longest
            segments.append([start, cut])
            start = cut + length if length < t else None
            pause, pauses = None, []
            if start is None:
                continue
        if p < off:
            pause = t if pause is None else pause
            if t - pause >= min_silence:
                if pause - start > min_speech:
                    segments.append([start, pause])
                start = pause = None
                pauses = []
    if start is not None and n_samples - start > min_speech:
        segments.append([start, n_samples])

    for k, seg in enumerate(segments):
        if k == 0:
            seg[0] = int(max(0, seg[0] - pad))
        if k + 1 < len(segments):
            nxt = segments[k + 1]
            gap = nxt[0] - seg[1]
            if gap < 2 * pad:  # share the pause
                seg[1] += int(gap // 2)
                nxt[0] = int(max(0, nxt[0] - gap // 2))
            else:
                seg[1] = int(min(n_samples, seg[1] + pad))
                nxt[0] = int(max(0, nxt[0] - pad))
        else:
            seg[1] = int(min(n_samples, seg[1] + pad))
    return [(a, b) for a, b in segments]


def detect_speech(pcm: np.ndarray, params: VadParams, session=None) -> list[tuple[float, float]]:
    """Speech segments (start, end) in seconds. ``pcm`` is int16 at 16 kHz (may be a memmap).

    The audio is converted to float32 once (the only full-length copy)."""
    if len(pcm) < SAMPLE_RATE // 10:
        return []
    samples = np.asarray(pcm, dtype=np.float32)  # the one full-length float32 copy
    samples /= 32768.0  # in place
    probs = speech_probabilities(samples, session).tolist()  # Python floats: compared as silero does
    return [(a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in speech_segments(probs, params, len(samples))]


class SileroVad:
    """silero-vad for the vad step (firescribe.steps.vad.Vad): each thread that calls ``detect`` gets
    its own model session."""

    events = False  # it hears speech only

    def __init__(self, params: VadParams):
        self.params = params
        self.local = threading.local()

    @staticmethod
    def problems(params: VadParams, download: str) -> list[str]:
        return []  # the model is in the silero-vad wheel

    def detect(self, pcm: np.ndarray) -> tuple[list[tuple[float, float, str]], list]:
        if not hasattr(self.local, "session"):
            self.local.session = silero_session()
        return [(a, b, "speech") for a, b in detect_speech(pcm, self.params, self.local.session)], []
