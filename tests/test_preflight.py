"""What the workflow checks when it starts (firescribe.preflight): command-line strings typed
by the schema, and one line per problem with the input, hotword lists and model folders."""

from __future__ import annotations

import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from firescribe import preflight
from firescribe.engines.fireredasr.loader import MODEL_FILES as AED_FILES
from firescribe.plumbing.samples import SampleSheetError, input_problem, load_samples
from firescribe.preflight import PreflightError, coerce_config_strings, coerce_value, problems
from firescribe.settings import SCHEMA, default_config
from firescribe.text.punctuation import MODEL_FILES as PUNC_FILES

SCHEMA_DOC = yaml.safe_load(SCHEMA.read_text())


def leaves(schema: dict, prefix=()):
    """(path, schema) of every option of the config schema."""
    for key, sub in schema.get("properties", {}).items():
        if "properties" in sub:
            yield from leaves(sub, prefix + (key,))
        else:
            yield prefix + (key,), sub


def nested(path: tuple, value) -> dict:
    out = value
    for key in reversed(path):
        out = {key: out}
    return out


@pytest.fixture
def media(tmp_path):
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "talk.mp4").write_bytes(b"\0" * 16)
    return folder


def test_every_boolean_option_takes_true_and_false_as_the_docs_write_them():
    """Snakemake passes `--config strict=true` (and every value inside {...}) on as the text
    'true', which the schema rejected; typed first, every boolean of the schema validates."""
    booleans = [path for path, sub in leaves(SCHEMA_DOC) if "boolean" in preflight._types(sub)]
    assert ("strict",) in booleans and ("guard", "enabled") in booleans and len(booleans) >= 5
    for text, value in [("true", True), ("false", False), ("True", True), ("False", False)]:
        for path in booleans:
            config = {"input": "x", "backend": "whisper", **nested(path, text)}
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(config, SCHEMA_DOC)  # what the user met before
            coerce_config_strings(config)
            jsonschema.validate(config, SCHEMA_DOC)
            got = config
            for key in path:
                got = got[key]
            assert got is value, (path, text)


def test_numbers_and_null_inside_a_section_are_typed_and_strings_stay_strings():
    config = {
        "backend": "whisper",
        "input": "true",  # a string option keeps its text, whatever it looks like
        "language": "no",
        "hotwords": "null",  # YAML's null where a string or null is taken
        "punctuation": {"batch_size": "4", "model_dir": "models/FireRedPunc", "whisper": "yes"},
        "asr": {"gpus": ["0", "1"], "gpu_share": "0.5"},
        "vad": {"max_speech_s": "~"},
        "plan": {"stitch": "maybe"},  # not a boolean in YAML either: left for the schema to reject
    }
    coerce_config_strings(config)
    assert config["input"] == "true" and config["language"] == "no" and config["hotwords"] is None
    assert config["punctuation"] == {"batch_size": 4, "model_dir": "models/FireRedPunc", "whisper": True}
    assert config["asr"] == {"gpus": [0, 1], "gpu_share": 0.5}
    assert config["vad"]["max_speech_s"] is None
    assert config["plan"]["stitch"] == "maybe"
    with pytest.raises(jsonschema.ValidationError, match="'maybe' is not of type"):
        jsonschema.validate(config, SCHEMA_DOC)


def test_a_value_of_the_right_type_is_left_alone():
    assert coerce_value(True, {"type": "boolean"}) is True
    assert coerce_value(3, {"type": ["number", "null"]}) == 3
    assert coerce_value("3", {"type": "string"}) == "3"
    assert coerce_value("abc", {"type": "integer"}) == "abc"


def test_a_missing_input_says_whether_a_folder_or_a_sample_sheet_was_meant(tmp_path, media):
    assert input_problem(media) is None
    assert input_problem(tmp_path / "missing") == (
        f"input folder '{tmp_path / 'missing'}' does not exist (input takes a folder of media, searched recursively, or a TSV sample sheet)"
    )
    assert input_problem(tmp_path / "samples.tsv").startswith(f"sample sheet '{tmp_path / 'samples.tsv'}' does not exist")
    assert "is a single media file" in input_problem(media / "talk.mp4")
    with pytest.raises(SampleSheetError, match="input folder .* does not exist"):
        load_samples(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SampleSheetError, match=r"input folder '.*empty' holds no media files"):
        load_samples(empty)
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("sample\tpath\n")
    with pytest.raises(SampleSheetError, match=r"sample sheet '.*sheet.tsv' lists no files"):
        load_samples(sheet)


def test_a_config_that_can_run_has_no_problems_and_gives_the_sample_table(media):
    config = default_config(input=str(media))
    assert problems(config) == []
    assert list(preflight.check(config)["sample"]) == ["talk"]


def test_a_missing_fireredasr_folder_names_it_and_the_command_that_gets_it(tmp_path, media, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))  # snakemake started here
    config = default_config(input=str(media), backend="fireredasr-aed")
    [line] = problems(config)
    assert line.startswith("FireRedASR-AED model folder 'models/FireRedASR-AED-L' (fireredasr_aed.model_dir) does not exist; get it with: ")
    assert "firescribe download fireredasr-aed-l --dir models/FireRedASR-AED-L (or fireredasr2-aed;" in line
    # a folder with some of the released files: what it lacks
    folder = tmp_path / "FireRedASR2-AED"
    folder.mkdir()
    (folder / AED_FILES[0]).write_bytes(b"")
    config = default_config(input=str(media), backend="fireredasr-aed", fireredasr_aed={"model_dir": str(folder)})
    [line] = problems(config)
    assert f"(fireredasr_aed.model_dir) lacks {', '.join(AED_FILES[1:])}; " in line
    assert f"download fireredasr2-aed --dir {folder}" in line  # its name says FireRedASR2
    for name in AED_FILES:
        (folder / name).write_bytes(b"")
    assert problems(config) == []


def test_the_punctuation_folder_is_checked_where_the_merge_uses_it(tmp_path, media, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))
    punc = {"model_dir": "models/FireRedPunc"}
    # whisper writes its own punctuation: the folder is not used unless punctuation.whisper
    assert problems(default_config(input=str(media), punctuation=punc)) == []
    [line] = problems(default_config(input=str(media), punctuation={**punc, "whisper": True}))
    assert line.startswith("FireRedPunc model folder 'models/FireRedPunc' (punctuation.model_dir) does not exist; ")
    assert "firescribe download fireredpunc --dir models/FireRedPunc" in line
    for name in PUNC_FILES[:-1]:
        Path("models/FireRedPunc", name).mkdir(parents=True)
    [line] = problems(default_config(input=str(media), punctuation={**punc, "whisper": True}))
    assert f"lacks {PUNC_FILES[-1]};" in line


def test_whisper_models(tmp_path, media):
    def one(model):
        return problems(default_config(input=str(media), whisper={"model": model}))

    assert one("bundled:tiny.en") == [] and one("small") == [] and one("Systran/faster-whisper-small") == []
    assert one("bundled:huge") == ["whisper.model 'bundled:huge' is not a bundled model; bundled: bundled:tiny.en, bundled:base"]
    # a misspelt name ended the ASR job in a traceback ("Invalid model size")
    [line] = one("smal")
    assert line.startswith("whisper.model 'smal' is not a faster-whisper model name (tiny.en, tiny, base.en,")
    [line] = one(str(tmp_path / "ct2"))
    assert line.startswith(f"whisper model folder '{tmp_path / 'ct2'}' (whisper.model) does not exist; give a CTranslate2 model folder")
    (tmp_path / "ct2").mkdir()
    (tmp_path / "ct2" / "model.bin").write_bytes(b"")
    assert "(whisper.model) lacks config.json;" in one(str(tmp_path / "ct2"))[0]


def test_every_problem_is_found_at_once(tmp_path, media):
    config = default_config(input=str(tmp_path / "videos"), backend="fireredasr-aed", hotwords=str(tmp_path / "names.txt"),
                            fireredasr_aed={"model_dir": str(tmp_path / "aed")})
    found = problems(config)
    assert [line.split(" ")[0] for line in found] == ["input", "hotword", "FireRedASR-AED"], found
    assert found[1] == f"hotword list '{tmp_path / 'names.txt'}' does not exist"
    with pytest.raises(PreflightError) as info:
        preflight.check(config)
    assert info.value.problems == found


def test_start_prints_one_line_a_problem_and_ends_the_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        preflight.start(default_config(input=str(tmp_path / "videos")))
    assert info.value.code == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"firescribe: input folder '{tmp_path / 'videos'}' does not exist (input takes a folder of media, searched recursively, or a TSV sample sheet)",
                   "firescribe: nothing was run."]


def test_a_relative_folder_is_shown_absolute_when_snakemake_runs_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))
    assert preflight._shown("models/x") == "models/x"
    monkeypatch.setenv("PWD", "/")  # the shell is elsewhere: `snakemake --directory tmp_path`
    assert preflight._shown("models/x") == os.path.join(str(tmp_path), "models/x")
    assert preflight._shown("/abs/x") == "/abs/x"


# --- option names --------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "meant"), [
    ({"langauge": "zh"}, "language"),
    ({"vad": {"treshold": "0.6"}}, "vad.threshold"),
    ({"vad": {"fireredvad": {"event": "true"}}}, "vad.fireredvad.events"),
    ({"threads": "2"}, "asr.threads"),  # an option of another section
    ({"plan": {"pack": "true"}}, "plan.pack_files"),
])  # fmt: skip
def test_an_unknown_option_at_any_level_is_named_with_the_option_it_likely_means(given, meant):
    config = default_config(input="x")
    config.update({k: {**config[k], **v} if isinstance(v, dict) else v for k, v in given.items()})
    found = preflight.unknown_options(config)
    assert len(found) == 1 and f"did you mean {meant}?" in found[0] and "docs/configuration.md" in found[0]
    # the schema refuses it too (anyone validating a config against it)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, SCHEMA_DOC)


def test_the_shipped_config_and_every_option_of_the_schema_are_known():
    assert preflight.unknown_options(yaml.safe_load((SCHEMA.parent.parent / "config.yaml").read_text())) == []
    assert preflight.unknown_options(default_config(input="x")) == []


@pytest.mark.parametrize(("entry", "path", "value"), [
    ("asr.threads=2", ("asr", "threads"), 2),
    ("vad.fireredvad.events=true", ("vad", "fireredvad", "events"), True),
    ("asr.gpus=[0, 1]", ("asr", "gpus"), [0, 1]),
])  # fmt: skip
def test_a_dotted_name_gets_the_brace_form_that_sets_it(entry, path, value):
    """A dotted name (in a config file; Snakemake's --config refuses it itself) is shown in
    braces, and the braces shown, given to Snakemake's --config, set exactly that option."""
    from snakemake.cli import parse_config

    key, text = entry.split("=", 1)
    config = {"input": "x", key: yaml.safe_load(text)}
    (line,) = preflight.unknown_options(config)
    brace = re.search(r"--config '(.*)'$", line).group(1)
    given = {"input": "x", **parse_config([brace])}
    coerce_config_strings(given)
    assert preflight.unknown_options(given) == []
    got = given
    for k in path:
        got = got[k]
    assert got == value


def test_check_options_ends_the_run_before_anything_else(capsys):
    with pytest.raises(SystemExit) as info:
        preflight.check_options({"input": "x", "langauge": "zh"})
    assert info.value.code == 1
    assert capsys.readouterr().err.splitlines()[-1] == "firescribe: nothing was run."
