"""ASR backends behind one small interface (see ``base.Backend``); what the workflow knows of
each, and their options, are in firescribe.settings (``BACKENDS``)."""

from __future__ import annotations

import importlib

from firescribe.engines.backends.base import Backend, Segment, Word
from firescribe.settings import BACKENDS, BackendOptions
from firescribe.text.hotwords import Hotword


def engine_class(name: str) -> type:
    """The class of backend ``name`` (``BACKENDS[name].engine``), its module imported now."""
    module, cls = BACKENDS[name].engine.split(":")
    return getattr(importlib.import_module(module), cls)


def load_backend(name: str, options: BackendOptions, threads: int, device: str = "cpu", hotwords: list[Hotword] = ()) -> Backend:
    """Instantiate the backend ``name`` with its ``options``, for a file with these
    ``hotwords`` (firescribe.text.hotwords)."""
    facts = BACKENDS[name]
    if not isinstance(options, facts.options):
        raise TypeError(f"backend {name!r} takes {facts.options.__name__}, not {type(options).__name__}")
    return engine_class(name)(options, threads=threads, device=device, hotwords=hotwords)


__all__ = ["Backend", "Segment", "Word", "engine_class", "load_backend"]
