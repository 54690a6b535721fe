"""chinese.script: Chinese text in Simplified or Traditional (OpenCC), cue text and words alike."""

from __future__ import annotations

import json

import pytest
import yaml

from firescribe.chinese import SCRIPTS, ChineseParams, convert_doc, convert_segment, realign, script_converter
from firescribe.merge import CueParams, merge_transcript, write_outputs
from firescribe.settings import SCHEMA, default_settings


def words(*texts: str) -> list[dict]:
    return [{"start": float(i), "end": i + 0.5, "text": t, "confidence": 0.9 - i / 10} for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("script", "text", "want"),
    [
        ("simplified", "換一首歌，頭髮亂了", "换一首歌，头发乱了"),
        ("traditional", "换一首歌，头发乱了", "換一首歌，頭髮亂了"),
        ("taiwan", "我的鼠标和软件", "我的滑鼠和軟體"),  # Taiwan's phrases, not characters alone
        ("hongkong", "换一首歌", "換一首歌"),
        ("simplified", "用 Python 写 FireRedASR", "用 Python 写 FireRedASR"),  # Latin text untouched
    ],
)
def test_scripts_are_opencc_conversions(script, text, want):
    assert script_converter(script)(text) == want


def test_a_phrase_over_two_words_is_converted_as_one_and_keeps_its_times():
    text, out = realign("我的鼠标坏了", words("我的", "鼠", "标", "坏了"), script_converter("taiwan"))
    assert text == "我的滑鼠壞了"
    assert [(w["text"], w["start"], w["end"]) for w in out] == [("我的", 0.0, 0.5), ("滑鼠", 1.0, 2.5), ("壞了", 3.0, 3.5)]
    assert out[1]["confidence"] == pytest.approx(0.7)  # the lower of the two words'


def test_a_phrase_of_another_length_joins_the_words_it_covers():
    text, out = realign("买了U盘吗", words("买了", "U", "盘", "吗"), script_converter("taiwan"))
    assert text == "買了隨身碟嗎"
    assert [(w["text"], w["start"], w["end"]) for w in out] == [("買了", 0.0, 0.5), ("隨身碟", 1.0, 2.5), ("嗎", 3.0, 3.5)]


def test_words_cross_a_phrase_boundary_become_one():
    # the phrase 鼠标 starts inside the first word and ends inside the second
    text, out = realign("我的鼠标坏了", words("我的鼠", "标坏了"), script_converter("taiwan"))
    assert [(w["text"], w["start"], w["end"]) for w in out] == [("我的滑鼠壞了", 0.0, 1.5)]


def test_latin_words_and_spaces_stay():
    text, out = realign("用 Python 写软件", words("用", "Python", "写", "软件"), script_converter("traditional"))
    assert text == "用 Python 寫軟件"
    assert [w["text"] for w in out] == ["用", "Python", "寫", "軟件"]


def test_words_that_do_not_spell_the_text_are_converted_alone():
    segment = {"start": 0.0, "end": 2.0, "text": "换一首歌", "words": words("换", "一手")}
    out = convert_segment(segment, script_converter("traditional"))
    assert out["text"] == "換一首歌" and [w["text"] for w in out["words"]] == ["換", "一手"]
    with pytest.raises(ValueError, match="not in"):
        realign(segment["text"], segment["words"], script_converter("traditional"))


def doc_of(segments: list[dict]) -> dict:
    info = {"status": "ok", "source": "a.wav", "duration": 10.0}
    units = [{"spans": [[0.0, 10.0]], "segments": segments}]
    return merge_transcript("a", info, 1, units, None, {}, default_settings().subtitles)


def test_every_output_has_the_script(tmp_path):
    """TXT, SRT, VTT, TSV and JSON (cue text and words), for word-timed cues and cues
    without words (FireRedASR-AED v1)."""
    segments = [
        {"start": 0.0, "end": 2.0, "text": "換一首歌", "words": words("換", "一首", "歌")},
        {"start": 5.0, "end": 6.0, "text": "頭髮亂了", "words": []},
    ]
    doc = convert_doc(doc_of(segments), ChineseParams(script="simplified"))
    out = {fmt: str(tmp_path / f"a.{fmt}") for fmt in ("json", "txt", "srt", "vtt", "tsv")}
    write_outputs(doc, out, CueParams(7.0, 42, 16, 2, 0.6))
    texts = {fmt: open(path, encoding="utf-8").read() for fmt, path in out.items()}
    for fmt, content in texts.items():
        assert "换一首歌" in content and "头发乱了" in content, fmt
        assert not {"換", "頭", "髮", "亂"} & set(content), fmt
    saved = json.loads(texts["json"])
    assert [w["text"] for w in saved["segments"][0]["words"]] == ["换", "一首", "歌"]
    assert saved["text"] == "换一首歌头发乱了"


def test_null_leaves_the_document_as_it_is():
    doc = doc_of([{"start": 0.0, "end": 2.0, "text": "換一首歌", "words": words("換", "一首", "歌")}])
    assert convert_doc(doc, ChineseParams(script=None)) is doc
    assert convert_doc(doc, None) is doc


def test_the_schema_offers_exactly_these_scripts():
    spec = yaml.safe_load(SCHEMA.read_text())["properties"]["chinese"]["properties"]["script"]
    assert spec["enum"] == [None, *SCRIPTS]


def test_the_option_is_a_merge_param():
    chinese = default_settings(chinese={"script": "taiwan"}).chinese
    assert chinese == ChineseParams(script="taiwan")
    assert default_settings().chinese == ChineseParams(script=None)  # default: as the model wrote it
