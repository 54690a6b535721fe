"""firescribe: transcribe long video/audio corpora with FireRedASR, as a Snakemake workflow.

The package is grouped by room: ``steps`` (one module per rule), ``engines`` (the ASR backends
and VADs), ``text`` (what a viewer reads), ``plumbing`` (what they share); ``settings``,
``preflight``, ``console`` and ``cli`` are what the Snakefile and the ``firescribe`` command
call first (docs/development.md maps every module).

The workflow's scripts (``scripts/*.py``) import some modules by the names they had before
the package was grouped. Snakemake re-runs every job of a rule whose script file is newer
than the job's outputs, so editing a script would re-run every corpus finished before; the
scripts stay byte-identical, and ``SCRIPT_NAMES`` makes each of those names the very module
that now holds the code (one module object under two names, never a copy). New code imports
the new names (tests/test_imports.py holds both rules).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from types import ModuleType

__version__ = "0.1.0"

# the name a script imports -> the module that holds its code
SCRIPT_NAMES = {
    "firescribe.asr": "firescribe.steps.asr",
    "firescribe.audio": "firescribe.steps.extract",
    "firescribe.corpus": "firescribe.steps.corpus",
    "firescribe.fireredasr": "firescribe.engines.fireredasr",
    "firescribe.fireredasr.prepare": "firescribe.steps.prepare_model",
    "firescribe.guard": "firescribe.text.guard",
    "firescribe.hotwords": "firescribe.text.hotwords",
    "firescribe.io": "firescribe.plumbing.io",
    "firescribe.merge": "firescribe.steps.merge",
    "firescribe.models": "firescribe.steps.model_info",
    "firescribe.plan": "firescribe.steps.plan",
    "firescribe.punctuation": "firescribe.text.punctuation",
    "firescribe.report": "firescribe.steps.report",
    "firescribe.threads": "firescribe.plumbing.threads",
    "firescribe.vad": "firescribe.steps.vad",
    "firescribe.workflow": "firescribe.plumbing.workflow",
}


class _ScriptNames:
    """Imports a name of ``SCRIPT_NAMES`` as the module it names (imported on first use): a
    finder and loader of the import system's protocols (importlib.abc's, not imported: ~15 ms
    of start-up in every process)."""

    def find_spec(self, name, path=None, target=None):
        if name not in SCRIPT_NAMES:
            return None
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec) -> ModuleType:
        module = importlib.import_module(SCRIPT_NAMES[spec.name])
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import system has just set the module's __spec__ to the old name's: its own back
        module.__spec__ = module.__spec__.loader_state


if not any(isinstance(finder, _ScriptNames) for finder in sys.meta_path):
    sys.meta_path.insert(0, _ScriptNames())
