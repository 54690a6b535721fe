"""Helpers shared by the Snakemake scripts: logging to the rule's log file, config views."""

from __future__ import annotations

import logging
import sys

from firescribe.backends import DEFAULT_MAX_UNIT_S


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


def backend_options(config: dict) -> dict:
    return dict(config[config["backend"].replace("-", "_")])
