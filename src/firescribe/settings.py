"""Settings: the validated config as typed, frozen values, built once.

* ``config/schemas/config.schema.yaml`` is the one source of defaults: ``Settings.from_config``
  reads a config the schema has validated and filled in, and no dataclass here or in the
  stages has defaults of its own.
* ``BACKENDS`` is the one table of backend facts (unit limit, default pause gap, stitching,
  batch budget, word times, GPU memory cap); ``FIREREDASR_VARIANTS`` the FireRedASR-AED
  variants and which run from prepared files; a backend's options are one dataclass.
* ``VADS`` is the one table of VAD facts (config section, engine, TSV labels, model
  download); ``resolve_vad_model`` the one reader of ``vad.model``.
* What shapes results (``Settings.asr``, ``.vad``, ``.plan``, ...) is kept apart from where jobs
  run (``Settings.placement``), so moving a run to other GPUs or threads re-runs nothing.

Rules pass settings as params of built-in types (``dataclasses.asdict``, ``AsrSettings.params``):
Snakemake decides re-runs by comparing only such params (a dataclass would be ignored); what
must stay out of them so that finished corpora re-run nothing: ``firescribe.plumbing.params``. The
scripts turn them back into the dataclasses. This module loads no model library (torch,
faster-whisper): the Snakefile reads it at parse time and every job script imports it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

from snakemake.utils import validate

from firescribe.engines.fireredvad import FireRedVadParams
from firescribe.engines.silero import VadParams
from firescribe.plumbing.params import rule_params
from firescribe.plumbing.shards import ShardParams
from firescribe.steps.plan import PlanParams
from firescribe.text.chinese import ChineseParams
from firescribe.text.cues import CueParams
from firescribe.text.guard import GuardParams, ReadableParams
from firescribe.text.punctuation import PunctuationParams

SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schemas" / "config.schema.yaml"

# FireRedASR-AED variants, ``<runtime>-<precision>``, and the format of the files the
# prepare_model step writes for one (firescribe.steps.prepare_model); None for a variant that
# runs from the released files. The format is a param of prepare_model: a new one re-prepares.
FIREREDASR_VARIANTS = {
    "torch-fp32": None,
    "torch-int8": None,
    "torch-fp16": 1,
    "torch-bf16": None,  # cast from the released fp32 weights as they move to the GPU
    # 2: the decoder step graph reads the cache buffers in place (1 copied them every step)
    "onnxruntime-fp32": 2,
    "onnxruntime-int8": 2,
}
PREPARED_DIR = "results/work/model/fireredasr-aed"
# Audio kept on each side of a speech segment in stitched units (faster-whisper's VAD
# speech_pad_ms), counting the VAD's own padding; plan.stitch_pad_ms overrides it
STITCH_PAD_MS = 400


def variant_name(runtime: str, precision: str) -> str:
    """The FireRedASR-AED variant of ``runtime`` and ``precision``; an error for a pair that
    does not exist (e.g. onnxruntime with fp16)."""
    name = f"{runtime}-{precision}"
    if name not in FIREREDASR_VARIANTS:
        raise ValueError(
            f"fireredasr_aed: runtime {runtime!r} with precision {precision!r} is not available; "
            f"choose one of {', '.join(FIREREDASR_VARIANTS)}"
        )
    return name


@dataclass(frozen=True)
class WhisperOptions:
    """The config's ``whisper`` section."""

    model: str  # "bundled:tiny.en", "bundled:base", a CTranslate2 folder or a faster-whisper model name
    compute_type: str
    beam_size: int
    batch_size: int

    prepared_dir: ClassVar[None] = None  # runs from the model as it is

    @classmethod
    def from_config(cls, section: dict, hotwords: bool) -> WhisperOptions:
        return cls(**section)  # whisper takes hotwords as a prompt: no weight option


@dataclass(frozen=True)
class FireRedAedOptions:
    """The config's ``fireredasr_aed`` section, with what the run adds to it."""

    model_dir: str  # the released files
    beam_size: int
    decode_max_len: int
    softmax_smoothing: float
    aed_length_penalty: float
    eos_penalty: float
    precision: str
    runtime: str
    # None in a run without hotword lists (then not a param: firescribe.plumbing.params)
    hotword_weight: float | None
    # the prepare_model step's folder, for a variant that runs from one; else None
    prepared_dir: str | None

    @classmethod
    def from_config(cls, section: dict, hotwords: bool) -> FireRedAedOptions:
        variant = variant_name(section["runtime"], section["precision"])
        return cls(
            **{**section, "hotword_weight": section["hotword_weight"] if hotwords else None},
            prepared_dir=None if FIREREDASR_VARIANTS[variant] is None else f"{PREPARED_DIR}/{variant}",
        )

    @property
    def variant(self) -> str:
        return variant_name(self.runtime, self.precision)


BackendOptions = WhisperOptions | FireRedAedOptions
# options that weigh hotwords, not which model runs (not a param of model_info)
HOTWORD_OPTIONS = ("hotword_weight",)


@dataclass(frozen=True)
class BackendFacts:
    """What the workflow knows of a backend, whatever its options."""

    section: str  # the config section holding its options
    options: type  # their dataclass
    engine: str  # "module:Class" of its firescribe.engines.backends.base.Backend, imported when used
    max_unit_s: float  # longest unit it takes (plan.max_unit_s may only lower it)
    max_gap_s: float  # default longest pause merged into a contiguous unit
    stitch: bool  # default: units of speech only (pauses cut out)
    # default audio per model batch; None: the options' batch_size units of max_unit_s
    batch_s: float | None
    # whether it gives word times: True, or None where the model files tell (model_info)
    word_times: bool | None
    gpu_memory_cap: bool  # whether a GPU job can cap its memory (PyTorch; not CTranslate2)
    fireredvad: bool  # vad.model auto: FireRedVAD whatever the language (FireRed's own VAD)
    # whether an input's result may depend on the other inputs of its batch: the per-file
    # store (firescribe.plumbing.store) then reuses a batch's results only for the same batch
    batch_shapes_results: bool


BACKENDS = {
    # Whisper pads every clip to 30 s, so silence inside a unit costs nothing and fewer,
    # fuller clips decode faster with more context; units of speech only, as faster-whisper's
    # batched pipeline feeds it, gave a lower word error rate (benchmarks/whisper_backend.py).
    "whisper": BackendFacts(
        section="whisper",
        options=WhisperOptions,
        engine="firescribe.engines.backends.whisper:WhisperBackend",
        max_unit_s=30.0,
        max_gap_s=3.0,
        stitch=True,
        batch_s=None,
        word_times=True,
        gpu_memory_cap=False,  # CTranslate2 has no per-process limit
        fireredvad=False,  # FireRedVAD for Chinese only
        batch_shapes_results=False,  # an input's result is the same alone or batched
    ),
    # Longer inputs hallucinate and > 200 s exceed the positional encoding; the cost grows
    # with the unit, silence included; contiguous audio is how it was trained and evaluated.
    # Attention memory grows with the square of the unit length: two 60 s units a batch.
    "fireredasr-aed": BackendFacts(
        section="fireredasr_aed",
        options=FireRedAedOptions,
        engine="firescribe.engines.backends.fireredasr:FireRedAedBackend",
        max_unit_s=60.0,
        max_gap_s=1.0,
        stitch=False,
        batch_s=120.0,
        word_times=None,  # FireRedASR2 has them (its CTC head), FireRedASR-AED v1 not
        gpu_memory_cap=True,
        fireredvad=True,
        # the decode length limit is the batch's longest input (beam_search.max_len)
        batch_shapes_results=True,
    ),
}


def options_params(options: BackendOptions) -> dict:
    """Backend options as a rule param: a dict, less the options that are None (those the run
    does not use, such as hotword_weight without hotword lists: firescribe.plumbing.params)."""
    values = asdict(options)
    return rule_params(values, unused=[k for k, v in values.items() if v is None])


def options_from_params(backend: str, params: dict) -> BackendOptions:
    """``backend``'s options from their ``options_params`` dict (an option left out was None)."""
    cls = BACKENDS[backend].options
    return cls(**{f.name: params.get(f.name) for f in dataclasses.fields(cls)})


@dataclass(frozen=True)
class VadFacts:
    """What the workflow knows of a VAD, whatever its options."""

    section: str  # the config section holding its options (dotted; silero's are vad's own)
    options: type  # their dataclass: params() (the vad rule's), from_params(), pad_ms
    engine: str  # "module:Class" of its firescribe.steps.vad.Vad, imported when used
    labels: bool  # its TSV labels each segment and lists event spans (firescribe.plumbing.segments)
    download: str | None  # `firescribe download` name of its model folder; None: in its wheel


VADS = {
    "silero": VadFacts(section="vad", options=VadParams, engine="firescribe.engines.silero:SileroVad", labels=False, download=None),
    "fireredvad": VadFacts(
        section="vad.fireredvad", options=FireRedVadParams, engine="firescribe.engines.fireredvad:FireRedVad", labels=True, download="fireredvad"
    ),
}
# the VAD whose params carry no name: every corpus run before FireRedVAD existed (firescribe.plumbing.params)
FIRST_VAD = "silero"


def vad_options(config: dict, name: str):
    """VAD ``name``'s options in a validated ``config`` (``VADS[name].section``)."""
    values = config
    for key in VADS[name].section.split("."):
        values = values[key]
    return section(VADS[name].options, values)


def vad_from_params(params: dict) -> tuple:
    """The VAD's name and options from ``Settings.vad_params``."""
    name = params.get("model", FIRST_VAD)
    return name, VADS[name].options.from_params({k: v for k, v in params.items() if k != "model"})


@dataclass(frozen=True)
class AsrSettings:
    """What shapes the ASR results: the backend and its options, the batch budget, the guard."""

    backend: str
    options: BackendOptions
    batch_seconds: float
    guard: GuardParams

    def params(self) -> dict:
        return {"backend": self.backend, "options": options_params(self.options), "batch_seconds": self.batch_seconds, "guard": asdict(self.guard)}

    def model_params(self) -> dict:
        """The model_info rule's params: the backend's options less the hotword weight (it does
        not change which model runs: firescribe.plumbing.params)."""
        return rule_params(options_params(self.options), unused=HOTWORD_OPTIONS)

    @classmethod
    def from_params(cls, params: dict) -> AsrSettings:
        options = options_from_params(params["backend"], params["options"])
        return cls(params["backend"], options, params["batch_seconds"], GuardParams(**params["guard"]))


@dataclass(frozen=True)
class Placement:
    """Where ASR jobs run (the config's ``asr`` section); never part of a rule's params."""

    threads: int
    device: str  # cpu, cuda or auto
    gpus: tuple[int, ...]
    gpu_mem_mb: int
    gpu_share: float

    @classmethod
    def from_config(cls, config: dict) -> Placement:
        return cls(**{**config["asr"], "gpus": tuple(config["asr"]["gpus"])})


@dataclass(frozen=True)
class Settings:
    """The whole config, typed: what shapes results per stage, and where ASR jobs run."""

    input: str
    hotwords: str | None  # the corpus's hotword list
    language: str | None
    strict: bool
    track: str | int  # audio.track: auto, an audio track's number or a language tag
    channels: str  # audio.channels: mix or apart
    shards: ShardParams
    asr: AsrSettings
    vad_model: str  # a key of VADS (vad.model, auto resolved: resolve_vad_model)
    vad_options: VadParams | FireRedVadParams  # the options of vad_model
    vad: VadParams  # silero's options (the config's vad section)
    fireredvad: FireRedVadParams  # FireRedVAD's (vad.fireredvad)
    plan: PlanParams
    punctuation: PunctuationParams
    subtitles: CueParams
    chinese: ChineseParams
    readable: ReadableParams  # the guard's section as the merge step reads it
    placement: Placement

    @property
    def backend(self) -> str:
        return self.asr.backend

    def vad_params(self) -> dict:
        """The options of the configured VAD only (what shapes its segments), as the vad and
        merge rules' params, with the VAD's name, except silero's (as before FireRedVAD existed:
        firescribe.plumbing.params)."""
        return rule_params({"model": self.vad_model, **self.vad_options.params()}, as_before={"model": FIRST_VAD})

    def extract_params(self) -> dict:
        """The extract rule's params beyond its files: ``track`` and ``channels`` only where
        they change the audio (they came later: firescribe.plumbing.params)."""
        return rule_params({"track": self.track, "channels": self.channels}, as_before={"track": "auto", "channels": "mix"})

    @property
    def punctuates(self) -> bool:
        """Whether the merge step punctuates (a FireRedPunc folder given, for this backend)."""
        return self.punctuation.applies_to(self.backend)

    @classmethod
    def from_config(cls, config: dict, hotwords: bool, languages: Iterable = ()) -> Settings:
        """The settings of a validated ``config`` (the schema's defaults filled in), for a run
        with (``hotwords``) or without hotword lists, of files in ``languages`` (the sample
        sheet's column)."""
        facts = BACKENDS[config["backend"]]
        options = facts.options.from_config(config[facts.section], hotwords)
        vad_model = resolve_vad_model(config, languages)
        vads = {name: vad_options(config, name) for name in VADS}
        vad_pad_ms = vads[vad_model].pad_ms  # audio the VAD adds on each side of a speech segment
        plan = config["plan"]
        max_unit_s = min(float(plan["max_unit_s"]), facts.max_unit_s) if plan["max_unit_s"] else facts.max_unit_s
        stitch = facts.stitch if plan["stitch"] is None else bool(plan["stitch"])
        # plan.stitch_pad_ms counts the VAD's own padding; 0 without stitching
        pad_ms = STITCH_PAD_MS if plan["stitch_pad_ms"] is None else plan["stitch_pad_ms"]
        batch_seconds = plan["batch_seconds"] or (facts.batch_s if facts.batch_s is not None else options.batch_size * max_unit_s)
        return cls(
            input=config["input"],
            hotwords=config["hotwords"],
            language=config["language"],
            strict=config["strict"],
            track=config["audio"]["track"],
            channels=config["audio"]["channels"],
            shards=ShardParams(**config["shards"]),
            asr=AsrSettings(config["backend"], options, float(batch_seconds), section(GuardParams, config["guard"])),
            vad_model=vad_model,
            vad_options=vads[vad_model],
            vad=vads["silero"],
            fireredvad=vads["fireredvad"],
            plan=PlanParams(
                max_unit_s=max_unit_s,
                max_gap_s=facts.max_gap_s if plan["max_gap_s"] is None else float(plan["max_gap_s"]),
                chunk_s=plan["chunk_minutes"] * 60.0,
                stitch=stitch,
                stitch_pad_s=max(0.0, pad_ms - vad_pad_ms) / 1000.0 if stitch else 0.0,
                cue_units=plan["cue_units"],
                max_cue_s=config["subtitles"]["max_cue_s"],
                pack_files=plan["pack_files"],
            ),
            punctuation=PunctuationParams(**config["punctuation"]),
            subtitles=CueParams(**config["subtitles"]),
            chinese=ChineseParams(**config["chinese"]),
            readable=section(ReadableParams, config["guard"]),
            placement=Placement.from_config(config),
        )


# vad.model auto: FireRedVAD for these languages (and the backends whose facts say so),
# silero-vad otherwise
FIREREDVAD_LANGUAGES = ("zh",)


def resolve_vad_model(config: dict, languages: Iterable = ()) -> str:
    """The VAD a validated ``config`` runs: ``vad.model``, or for ``auto`` FireRedVAD where
    the backend is FireRedASR or a language the run names is Chinese (``language``, or a
    file's in the sample sheet: ``languages``), silero-vad otherwise, also where whisper
    detects the language (it does so after the VAD). One VAD per corpus. docs/vad.md."""
    model = config["vad"]["model"]
    if model != "auto":
        return model
    named = [x for x in (config["language"], *languages) if isinstance(x, str) and x]
    chinese = any(x.split("-")[0].lower() in FIREREDVAD_LANGUAGES for x in named)
    return "fireredvad" if chinese or BACKENDS[config["backend"]].fireredvad else FIRST_VAD


def section(cls, values: dict):
    """``cls``, a dataclass, of the fields it has in a config section's ``values``."""
    return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls)})


def default_config(**given) -> dict:
    """A config of the schema's defaults, with ``given`` on top (a section given is filled
    in by the schema too)."""
    config = {"input": "", "backend": "whisper", **given}
    validate(config, str(SCHEMA), set_default=True)
    return config


def default_settings(hotwords: bool = False, **given) -> Settings:
    """Settings of the schema's defaults with ``given`` config on top; for code that runs the
    workflow's steps outside Snakemake (benchmarks, tests)."""
    return Settings.from_config(default_config(**given), hotwords)
