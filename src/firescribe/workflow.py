"""Helpers shared by the Snakemake scripts: logging to the rule's log file, config views."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from firescribe.backends import DEFAULT_MAX_GAP_S, DEFAULT_MAX_UNIT_S, DEFAULT_STITCH, STITCH_PAD_MS


def setup_logging(log_path: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True)
    logging.captureWarnings(True)


SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schemas" / "config.schema.yaml"


def default_config(**given) -> dict:
    """A config of the schema's defaults (the one place they live), with ``given`` on top;
    for code that runs the workflow's steps outside Snakemake (benchmarks, tests)."""
    from snakemake.utils import validate

    config = {"input": "", "backend": "whisper", **given}
    validate(config, str(SCHEMA), set_default=True)
    return config


def max_unit_s(config: dict) -> float:
    """The configured unit limit, never above what the backend can take."""
    limit = DEFAULT_MAX_UNIT_S[config["backend"]]
    value = config["plan"].get("max_unit_s")
    return min(float(value), limit) if value else limit


def max_gap_s(config: dict) -> float:
    """Longest pause merged into a unit: as configured, else the backend's default."""
    value = config["plan"].get("max_gap_s")
    return float(value) if value is not None else DEFAULT_MAX_GAP_S[config["backend"]]


def stitch(config: dict) -> bool:
    """Whether units hold speech only (pauses cut out): as configured, else the backend's default."""
    value = config["plan"].get("stitch")
    return bool(value) if value is not None else DEFAULT_STITCH[config["backend"]]


def stitch_pad_s(config: dict) -> float:
    """Audio kept on each side of a speech segment in stitched units, beyond the VAD's own
    padding (``plan.stitch_pad_ms`` counts the VAD's ``speech_pad_ms``); 0 without stitching."""
    if not stitch(config):
        return 0.0
    value = config["plan"].get("stitch_pad_ms")
    total_ms = value if value is not None else STITCH_PAD_MS
    return max(0.0, total_ms - config["vad"]["speech_pad_ms"]) / 1000.0


def cue_unit_limit(cue_units: bool | None, max_cue_s: float, model: dict) -> float | None:
    """The unit limit that makes units cue-sized (``plan.cue_units``; null: where the model
    gives no word times, FireRedASR-AED v1), else None."""
    on = not model["word_times"] if cue_units is None else cue_units
    return max_cue_s if on else None


def batch_seconds(config: dict) -> float:
    """Audio per model batch: as configured, else what fills the backend's batch: whisper
    decodes ``batch_size`` clips of up to 30 s at once; FireRedASR-AED's attention memory
    grows with the square of the unit length, so it gets two 60 s units."""
    value = config["plan"].get("batch_seconds")
    if value:
        return float(value)
    if config["backend"] == "whisper":
        return float(config["whisper"].get("batch_size", 8)) * max_unit_s(config)
    return 120.0


def backend_options(config: dict, hotwords: bool = False) -> dict:
    """The backend's config section, plus for FireRedASR-AED the prepared model folder;
    ``hotword_weight`` only for a run with hotword lists (``hotwords``), so that changing it
    does not re-run the ASR of a corpus without any."""
    options = dict(config[config["backend"].replace("-", "_")])
    if not hotwords:
        options.pop("hotword_weight", None)
    if prepared_model(config):
        options["prepared_dir"] = prepared_model(config)
    return options


# FireRedASR-AED variants that run from converted files (see firescribe.fireredasr.prepare)
PREPARED_VARIANTS = ("torch-fp16", "onnxruntime-fp32", "onnxruntime-int8")


def model_variant(config: dict) -> str | None:
    """The FireRedASR-AED variant (runtime-precision) the config asks for, else None."""
    if config["backend"] != "fireredasr-aed":
        return None
    from firescribe.fireredasr.prepare import variant_name

    options = config["fireredasr_aed"]
    return variant_name(options.get("runtime", "torch"), options.get("precision", "fp32"))


def prepared_model(config: dict) -> str | None:
    """The folder the prepare_model step writes for this config, or None when the variant
    runs from the released files as they are."""
    variant = model_variant(config)
    return f"results/work/model/fireredasr-aed/{variant}" if variant in PREPARED_VARIANTS else None
