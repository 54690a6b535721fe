"""FireRedASR-AED backend: our engine (firescribe.engines.fireredasr) on the released model files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from firescribe.engines.backends.base import Segment, Word
from firescribe.engines.fireredasr import memory
from firescribe.engines.fireredasr.align import shifted, words
from firescribe.engines.fireredasr.beam_search import BeamParams
from firescribe.engines.fireredasr.context import ContextGraph
from firescribe.engines.fireredasr.loader import MODEL_FILES, OPTIONAL_FILES, check_model_dir, load_checkpoint, load_frontend, load_model_dir
from firescribe.engines.fireredasr.ort import OnnxAed
from firescribe.engines.fireredasr.precision import DTYPES, HALF, to_precision
from firescribe.engines.fireredasr.prepared import read_manifest
from firescribe.engines.fireredasr.tokenizer import TextTokenizer, TokenDict
from firescribe.plumbing.loudness import frame_energy, quietest
from firescribe.plumbing.pcm import SAMPLE_RATE
from firescribe.settings import FireRedAedOptions, options_params
from firescribe.text.guard import GuardParams
from firescribe.text.hotwords import Hotword, provenance

log = logging.getLogger(__name__)


class FireRedAedBackend:
    name = "fireredasr-aed"

    def __init__(self, options: FireRedAedOptions, threads: int, device: str = "cpu", hotwords: list[Hotword] = ()):
        self.options = options
        self.precision, self.runtime = options.precision, options.runtime
        self.variant = options.variant
        prepared = options.prepared_dir
        self.device = "cuda" if device in ("cuda", "auto") and torch.cuda.is_available() else "cpu"
        if self.precision in HALF and self.device == "cpu":  # no GPU free, or out-of-memory fallback
            log.warning("%s needs CUDA; this job runs on the CPU with the released fp32 weights", self.precision)
            self.precision, prepared = "fp32", None
        if self.runtime == "onnxruntime" and self.device == "cuda":
            # the ONNX variants serve the CPU jobs; a GPU job of the same run uses torch in fp16
            log.info("GPU job: torch fp16 on CUDA (the ONNX Runtime variant is for the CPU jobs)")
            self.runtime, self.precision, prepared = "torch", "fp16", None
        if self.runtime == "onnxruntime":
            manifest, cfg = read_manifest(prepared, self.variant)
            self.loaded = load_frontend(options.model_dir, cfg.odim)
            self.model = OnnxAed(prepared, cfg, threads)
            self.version = "FireRedASR2-AED" if manifest["ctc"] else "FireRedASR-AED"
        else:
            fp16_file = Path(prepared) / "model.pth.tar" if prepared and self.precision == "fp16" else None
            self.loaded = load_model_dir(options.model_dir, checkpoint=fp16_file)
            self.model = to_precision(self.loaded.model, self.precision, self.device)
            self.version = "FireRedASR2-AED" if self.loaded.model.ctc is not None else "FireRedASR-AED"
        self.params = BeamParams(
            beam_size=options.beam_size,
            decode_max_len=options.decode_max_len,
            softmax_smoothing=options.softmax_smoothing,
            length_penalty=options.aed_length_penalty,
            eos_penalty=options.eos_penalty,
        )
        self.hotwords = list(hotwords)
        self.context, self.hotwords_used = None, 0
        if self.hotwords:
            if options.hotword_weight is None:
                raise ValueError("hotwords given, but no hotword_weight in the options (Settings.from_config with hotwords=True)")
            spm = Path(options.model_dir) / OPTIONAL_FILES[0]
            self.context, self.hotwords_used = compile_hotwords(self.hotwords, self.loaded.tokens, spm, options.hotword_weight)

    @staticmethod
    def model_files(options: FireRedAedOptions) -> tuple[str, Path, list[str]]:
        """The model's id, its folder (checked) and the released files that identify it."""
        return options.model_dir, check_model_dir(options.model_dir), list(MODEL_FILES)

    @staticmethod
    def model_word_times(folder: Path) -> bool:
        """Whether the checkpoint in ``folder`` gives word times: FireRedASR2's has a CTC head
        (its alignment times the words), v1's not. Memory-mapped, not loaded."""
        return any(name.startswith("ctc.") for name in load_checkpoint(folder / "model.pth.tar")[1])

    def units_that_fit(self, budget_mb: int, seconds: float) -> int | None:
        """How many units of ``seconds`` a batch may hold in ``budget_mb`` MB of GPU memory
        (``fireredasr.memory``'s model); None off the GPU or under ONNX Runtime (no model)."""
        if self.device != "cuda" or self.runtime != "torch":
            return None
        weights = sum(p.numel() * p.element_size() for p in self.model.parameters())
        return memory.units_that_fit(budget_mb, weights, self.model.cfg, self.precision, self.params.beam_size, seconds)

    def describe(self) -> dict:
        return {
            "backend": self.name,
            "engine": "firescribe.fireredasr",  # the name transcripts carry (not a module path)
            "model": self.options.model_dir,
            "model_version": self.version,
            "runtime": self.runtime,
            "precision": self.precision,
            "device": self.device,
            "options": options_params(self.options),
            "hotwords": provenance(self.hotwords, self.hotwords_used),
        }

    def transcribe(self, batch: list[np.ndarray], language: str | None) -> list[list[Segment]]:
        if not batch:
            return []
        feats, lengths = self.loaded.features.batch(batch)
        feats = feats.to(self.device, DTYPES.get(self.precision, torch.float32))  # int8 takes fp32 input
        hyps = self.model.transcribe(feats, lengths.to(self.device), self.params, timestamps=True, context=self.context)
        out = []
        for audio, utt in zip(batch, hyps):
            best, duration = utt[0], round(len(audio) / SAMPLE_RATE, 3)
            text = self.loaded.tokens.detokenize(best.tokens)
            if not text:
                out.append([])
                continue
            timed = []
            if best.times:  # FireRedASR2: word times from the CTC alignment, confidences
                spans = shifted(best.times, duration)
                timed = [Word(s, e, w, round(c, 4)) for w, s, e, c in words(self.loaded.tokens.tokens(best.tokens), spans, best.token_probs)]
            out.append([Segment(0.0, duration, text, timed)])
        return out

    def redecode(self, unit: np.ndarray, language: str | None, guard: GuardParams, seed: int) -> tuple[list[Segment], dict]:
        """The unit's two halves, cut at its quietest point in the middle third: a shorter
        input loops less (FireRedASR #91). Times of the second half are moved back onto the
        unit's audio. Beam search: nothing is sampled (``seed`` is not used)."""
        seconds = len(unit) / SAMPLE_RATE
        cut = quietest(frame_energy(unit), seconds / 3, 2 * seconds / 3)
        if cut is None:  # too short to split
            return self.transcribe([unit], language)[0], {"sampled": False}
        i = int(round(cut * SAMPLE_RATE))
        first, second = self.transcribe([unit[:i], unit[i:]], language)
        offset = i / SAMPLE_RATE
        moved = [
            Segment(round(s.start + offset, 3), round(s.end + offset, 3), s.text,
                    [Word(round(w.start + offset, 3), round(w.end + offset, 3), w.text, w.confidence) for w in s.words])
            for s in second
        ]
        return first + moved, {"sampled": False}


def compile_hotwords(
    hotwords: list[Hotword], tokens: TokenDict, spm_model: Path, weight: float
) -> tuple[ContextGraph | None, int]:
    """The context graph of ``hotwords`` (each with its own weight, else ``weight``) in the
    model's tokens, and how many it holds. A hotword with a token outside the vocabulary is
    skipped with a warning naming it; None when no hotword has a bonus (the official search)."""
    tokenizer = TextTokenizer(tokens, spm_model)
    entries = []
    for h in hotwords:
        ids = tokenizer.encode(h.text)
        if not ids:
            pieces = tokenizer.tokenize(h.text)
            log.warning("hotword %r skipped: token(s) %s not in the model's vocabulary", h.text, [t for t in pieces if t not in tokenizer.ids] or pieces)
            continue
        entries.append((ids, weight if h.weight is None else h.weight))
    log.info("hotwords: %d of %d compiled", len(entries), len(hotwords))
    used = sum(1 for _, w in entries if w > 0)
    return (ContextGraph(entries, len(tokens)) if used else None), used
