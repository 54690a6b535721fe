"""A prepared FireRedASR-AED folder (written by the prepare_model step,
firescribe.steps.prepare_model): its manifest, read and checked by the backend that runs
from it."""

from __future__ import annotations

import json
from pathlib import Path

from firescribe.engines.fireredasr.errors import ModelFileError
from firescribe.engines.fireredasr.model import AedConfig
from firescribe.settings import FIREREDASR_VARIANTS

MANIFEST = "manifest.json"


def read_manifest(prepared_dir: str | Path, variant: str) -> tuple[dict, AedConfig]:
    """The manifest of a prepared folder, checked to be for ``variant``."""
    path = Path(prepared_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        cfg = AedConfig(**manifest["config"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(path, f"not a prepared model folder ({type(exc).__name__}: {exc}); rerun the prepare_model step") from exc
    if manifest.get("variant") != variant:
        raise ModelFileError(path, f"prepared for {manifest.get('variant')!r}, not {variant!r}; rerun the prepare_model step")
    if manifest.get("format", 1) != FIREREDASR_VARIANTS[variant]:
        raise ModelFileError(
            path, f"prepared in format {manifest.get('format', 1)}, this firescribe reads {FIREREDASR_VARIANTS[variant]}; rerun the prepare_model step"
        )
    return manifest, cfg
