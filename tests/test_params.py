"""Rule params that must not cause re-runs (firescribe.plumbing.params): the helper, and the params of
existing configs kept as they were, byte for byte (Snakemake compares their repr)."""

from __future__ import annotations

from dataclasses import asdict

from support.workflow import REPO

from firescribe.plumbing.params import rule_params
from firescribe.settings import Settings, default_config

# every rule's settings params for these configs, with and without hotword lists, as written
# at 2587d8a (before the helper): a change here re-runs every finished corpus of that config
GOLDEN = REPO / "tests" / "support" / "rule_params.txt"
PUNCTUATED = {"punctuation": {"model_dir": "models/FireRedPunc", "whisper": True}}
CONFIGS = {
    "demo": {},
    "en": {"language": "en"},
    "zh": {"language": "zh"},
    "fr-aed": {"backend": "fireredasr-aed"},
    "fr-aed-onnx": {"backend": "fireredasr-aed", "fireredasr_aed": {"runtime": "onnxruntime", "precision": "int8"}},
    "fr-aed-punc": {"backend": "fireredasr-aed", **PUNCTUATED},
    "silero": {"vad": {"model": "silero", "max_speech_s": 20}},
    "frvad-off": {"vad": {"model": "fireredvad", "fireredvad": {"events": False}}},
    "frvad-on": {"vad": {"model": "fireredvad", "fireredvad": {"events": True, "singing_threshold": 0.7}}},
    "chinese": {"language": "zh", "chinese": {"script": "taiwan", "numbers": True}},
    "track": {"audio": {"track": 1, "channels": "apart"}},
    "track2": {"audio": {"track": "fre"}},
}


def settings_params(settings: Settings) -> dict:
    """What each rule takes from the settings as params (rules/*.smk)."""
    return {
        "extract": settings.extract_params(),
        "vad": settings.vad_params(),
        "plan": asdict(settings.plan),
        "asr": settings.asr.params(),
        "model_info": settings.asr.model_params(),
        "punctuation": asdict(settings.punctuation),
        "subtitles": asdict(settings.subtitles),
        "chinese": settings.chinese.params(),
        "readable": asdict(settings.readable),
    }


def test_rule_params_leave_out_unused_options_and_those_as_before():
    values = {"a": 1, "b": None, "c": "auto", "d": False}
    assert rule_params(values) == values
    assert list(rule_params(values, unused=["b"])) == ["a", "c", "d"]  # the order kept
    assert rule_params(values, as_before={"c": "auto", "d": False}) == {"a": 1, "b": None}
    assert rule_params({**values, "c": 2, "d": True}, as_before={"c": "auto", "d": False}) == {"a": 1, "b": None, "c": 2, "d": True}


def test_rule_params_of_existing_configs_are_unchanged():
    lines = []
    for name, given in CONFIGS.items():
        config = default_config(**given)
        for hotwords in (False, True):
            for rule, params in settings_params(Settings.from_config(config, hotwords=hotwords)).items():
                lines.append(f"{name} {hotwords} {rule} {params!r}")
    golden = GOLDEN.read_text().splitlines()
    changed = [f"{old}\n  now: {new}" for old, new in zip(golden, lines, strict=True) if old != new]
    assert not changed, "rule params changed (every finished corpus of such a config re-runs):\n" + "\n".join(changed)


def test_the_scripts_are_byte_identical():
    """Snakemake re-runs every job of a rule whose script file is newer than the job's
    outputs, and a pulled change to a script is newer: every corpus finished before would
    re-run. So the scripts stay as recorded in tests/support/scripts.sha256 (written from the
    scripts unchanged since f8d2e78); a new script, for a new rule, may be added to it. The
    package's code moves freely behind them (firescribe.SCRIPT_NAMES, docs/development.md)."""
    import hashlib

    recorded = dict(reversed(line.split("  ")) for line in (REPO / "tests" / "support" / "scripts.sha256").read_text().splitlines())
    now = {name: hashlib.sha256((REPO / "scripts" / name).read_bytes()).hexdigest() for name in recorded}
    assert now == recorded
