"""Backend options for tests that build a backend outside the workflow: the schema's
defaults (firescribe.settings), with what a test changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from firescribe.settings import FireRedAedOptions, WhisperOptions, default_settings


def whisper_options(**given) -> WhisperOptions:
    return dataclasses.replace(default_settings(backend="whisper").asr.options, **given)


def firered_options(model_dir: str | Path, **given) -> FireRedAedOptions:
    """FireRedASR-AED's default options for the released files in ``model_dir`` (torch fp32,
    hotword_weight set as in a run with hotword lists)."""
    options = default_settings(True, backend="fireredasr-aed").asr.options
    return dataclasses.replace(options, model_dir=str(model_dir), **given)
