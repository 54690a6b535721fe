"""The settings layer: every option in the schema is read and does something; placement
never reaches a rule's params; the shipped config is the schema's defaults."""

from __future__ import annotations

import copy
from dataclasses import asdict

import pytest
import yaml
from support.workflow import REPO

from firescribe.settings import BACKENDS, SCHEMA, AsrSettings, Settings, default_config, default_settings, options_from_params, options_params

SCHEMA_DOC = yaml.safe_load(SCHEMA.read_text())

# Options that only say where ASR jobs run: never in a rule's params (moving a run re-runs nothing)
PLACEMENT = {"asr.threads", "asr.device", "asr.gpus", "asr.gpu_mem_mb", "asr.gpu_share"}
# Options read when the Snakefile is parsed, not passed to a job as a setting: what to read
# (input, hotwords: the lists are inputs of the ASR jobs), the language (a per-file param,
# the sample sheet's column first), whether failed inputs fail the run, and how files are
# grouped into jobs (shards: the DAG's shape)
PARSE_TIME = {"input", "hotwords", "language", "strict", "shards.files", "shards.megabytes"}


def leaves(schema: dict, prefix: str = "") -> dict[str, dict]:
    """Every option of the schema, by dotted path, with its schema (sections recursed into)."""
    out = {}
    for name, spec in schema["properties"].items():
        path = f"{prefix}{name}"
        if spec.get("type") == "object" and "properties" in spec:
            out.update(leaves(spec, f"{path}."))
        else:
            out[path] = spec
    return out


OPTIONS = leaves(SCHEMA_DOC)


def other_values(spec: dict, current):
    """Valid values other than ``current`` for an option of schema ``spec``."""
    if "enum" in spec:
        return [v for v in spec["enum"] if v != current]
    types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    values = []
    if "boolean" in types:
        values += [True, False]
    if "integer" in types or "number" in types:
        step = 1 if "integer" in types else 0.25
        lo, hi = spec.get("minimum", spec.get("exclusiveMinimum", -100)), spec.get("maximum", 100)
        numeric = isinstance(current, (int, float)) and not isinstance(current, bool)
        for v in (lo + step, hi, *((current + step, current - step) if numeric else ())):
            if (lo <= v if "minimum" in spec else lo < v) and v <= hi:
                values.append(v)
    if "string" in types:
        values.append("other")
    if "array" in types:
        values.append([1, 2])
    return [v for v in values if v != current]


def set_option(config: dict, path: str, value) -> dict:
    config = copy.deepcopy(config)
    *sections, name = path.split(".")
    node = config
    for s in sections:
        node = node[s]
    node[name] = value
    return config


def base_configs() -> list[dict]:
    """One config per backend with everything optional switched on (hotword lists, a
    FireRedPunc folder, whisper output punctuated), so that each option has a run it acts in."""
    on = {"punctuation": {"model_dir": "models/FireRedPunc", "whisper": True}}
    # FireRedVAD's options act with vad.model: fireredvad (its event model's with events on)
    fireredvad = {"vad": {"model": "fireredvad", "fireredvad": {"events": True}}}
    return [default_config(backend=backend, **copy.deepcopy(on)) for backend in BACKENDS] + [default_config(**copy.deepcopy(on), **fireredvad)]


def rule_params(config: dict) -> tuple[dict, Settings]:
    settings = Settings.from_config(config, hotwords=True)
    return {
        "extract": settings.extract_params(),
        "vad": settings.vad_params(),
        "plan": asdict(settings.plan),
        "asr": settings.asr.params(),
        "punctuation": asdict(settings.punctuation),
        "subtitles": asdict(settings.subtitles),
        "chinese": settings.chinese.params(),
        "readable": asdict(settings.readable),
    }, settings


@pytest.mark.parametrize("path", sorted(OPTIONS))
def test_every_option_is_read_and_placement_stays_out_of_the_params(path):
    spec, acted = OPTIONS[path], []
    for base in base_configs():
        *sections, name = path.split(".")
        current = base
        for s in sections:
            current = current[s]
        before_params, before = rule_params(base)
        for value in other_values(spec, current[name]):
            try:
                after_params, after = rule_params(set_option(base, path, value))
            except ValueError:  # a pair the backend refuses (e.g. onnxruntime with fp16)
                continue
            if path in PLACEMENT:
                assert after_params == before_params, f"{path}={value!r} changed a rule's params"
                acted.append(after.placement != before.placement)
            elif path in PARSE_TIME:
                acted.append(after != before)
            else:
                acted.append(after_params != before_params)
    assert any(acted), f"changing {path} changes nothing: the option does nothing"


def test_the_shipped_config_is_the_schemas_defaults():
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    filled = default_config(input=shipped["input"])
    assert shipped == filled, "config/config.yaml and the schema's defaults differ"


def test_settings_survive_the_trip_through_rule_params():
    for config in base_configs():
        for hotwords in (False, True):
            asr = Settings.from_config(config, hotwords).asr
            assert AsrSettings.from_params(asr.params()) == asr
            assert options_from_params(asr.backend, options_params(asr.options)) == asr.options


def test_backend_facts_resolve_the_plan():
    whisper, firered, fireredvad = (Settings.from_config(c, hotwords=False) for c in base_configs())
    assert (whisper.plan.max_unit_s, whisper.plan.stitch, whisper.plan.max_gap_s) == (30.0, True, 3.0)
    assert (firered.plan.max_unit_s, firered.plan.stitch, firered.plan.max_gap_s) == (60.0, False, 1.0)
    # a configured limit only lowers the backend's; stitching pads count the VAD's padding
    capped = Settings.from_config(set_option(base_configs()[1], "plan.max_unit_s", 90), False)
    assert capped.plan.max_unit_s == 60.0
    assert whisper.plan.stitch_pad_s == pytest.approx(0.3)  # 400 ms, 100 of them the VAD's
    assert fireredvad.plan.stitch_pad_s == pytest.approx(0.4)  # FireRedVAD adds none (extend_speech_frames 0)
    extended = Settings.from_config(set_option(base_configs()[2], "vad.fireredvad.extend_speech_frames", 5), False)
    assert extended.plan.stitch_pad_s == pytest.approx(0.35)  # 5 frames of 10 ms are the VAD's
    assert (whisper.asr.batch_seconds, firered.asr.batch_seconds) == (8 * 30.0, 120.0)
    # hotword_weight is a param only in a run with hotword lists
    assert "hotword_weight" not in firered.asr.params()["options"]
    assert Settings.from_config(base_configs()[1], True).asr.params()["options"]["hotword_weight"] == 1.5


@pytest.mark.parametrize(
    ("given", "languages", "model"),
    [
        ({}, (), "silero"),  # whisper tiny.en, language null
        ({"language": "en"}, (), "silero"),
        ({"language": "zh"}, (), "fireredvad"),
        ({"language": "zh-TW"}, (), "fireredvad"),
        ({}, ("en", None, float("nan"), "zh"), "fireredvad"),  # a file of the sample sheet
        ({}, ("en", "de"), "silero"),
        ({"backend": "fireredasr-aed"}, (), "fireredvad"),
        ({"language": "zh", "vad": {"model": "silero"}}, (), "silero"),  # as configured
        ({"vad": {"model": "fireredvad"}}, (), "fireredvad"),
    ],
)
def test_vad_auto_follows_the_language_and_the_backend(given, languages, model):
    assert Settings.from_config(default_config(**given), False, languages).vad_model == model


def test_the_default_vad_params_are_those_before_fireredvad():
    """A corpus run before FireRedVAD existed re-runs nothing: the vad and merge rules' params
    of the default config are silero's options alone, as they were."""
    silero = {"threshold": 0.5, "min_speech_ms": 250, "min_silence_ms": 300, "speech_pad_ms": 100, "max_speech_s": None}
    assert default_settings().vad_params() == silero
    assert default_settings(language="en").vad_params() == silero  # vad.model auto: silero-vad
    events_off = default_settings(vad={"model": "fireredvad", "fireredvad": {"events": False}}).vad_params()
    assert "singing_threshold" not in events_off and "music_threshold" not in events_off  # they act only with events


def test_every_vad_of_the_schema_has_a_row_in_vads_and_its_params_come_back():
    """vad.model's choices are VADS' rows (and auto); each VAD's engine class exists with the
    step's interface, and its options survive the trip through the vad rule's params."""
    from firescribe.settings import VADS, vad_from_params
    from firescribe.steps.vad import engine_class

    assert set(SCHEMA_DOC["properties"]["vad"]["properties"]["model"]["enum"]) == {"auto", *VADS}
    for name in VADS:
        engine = engine_class(name)
        assert callable(engine.detect) and callable(engine.problems)
        for events in (False, True):
            settings = default_settings(vad={"model": name, "fireredvad": {"events": events}})
            assert settings.vad_model == name and isinstance(settings.vad_options, VADS[name].options)
            restored_name, restored = vad_from_params(settings.vad_params())
            assert restored_name == name and restored.params() == settings.vad_options.params()
            assert restored.pad_ms == settings.vad_options.pad_ms
