"""Helpers shared by the Snakemake scripts: logging to the rule's log file. (The config's
typed view is firescribe.settings.)"""

from __future__ import annotations

import logging
import os
import sys

from firescribe.console import VERBOSE_ENV


def setup_logging(log_path: str | None) -> None:
    """Log everything (INFO and up, libraries' too) to the job's log file; the console shows
    warnings and errors only, or everything in a run started with ``snakemake --verbose``
    (firescribe.console)."""
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING if os.environ.get(VERBOSE_ENV) == "0" else logging.INFO)
    handlers: list[logging.Handler] = [console]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True)
    logging.captureWarnings(True)
