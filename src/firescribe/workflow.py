"""Helpers shared by the Snakemake scripts: logging to the rule's log file, config views."""

from __future__ import annotations

import logging
import sys

from firescribe.backends import DEFAULT_MAX_GAP_S, DEFAULT_MAX_UNIT_S


def setup_logging(log_path: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True)
    logging.captureWarnings(True)


def max_unit_s(config: dict) -> float:
    """The configured unit limit, never above what the backend can take."""
    limit = DEFAULT_MAX_UNIT_S[config["backend"]]
    value = config["plan"].get("max_unit_s")
    return min(float(value), limit) if value else limit


def max_gap_s(config: dict) -> float:
    """Longest pause merged into a unit: as configured, else the backend's default."""
    value = config["plan"].get("max_gap_s")
    return float(value) if value is not None else DEFAULT_MAX_GAP_S[config["backend"]]


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


def backend_options(config: dict) -> dict:
    return dict(config[config["backend"].replace("-", "_")])
