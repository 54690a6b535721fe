"""chinese.script: Chinese text in Simplified or Traditional (OpenCC); chinese.numbers: spoken
numbers as digits (wetext) where a subtitle reader expects them; cue text and words alike."""

from __future__ import annotations

import json

import pytest
import yaml

from firescribe.settings import SCHEMA, default_settings
from firescribe.steps.merge import merge_transcript, write_outputs
from firescribe.text.chinese import SCRIPTS, ChineseParams, convert_doc, convert_numbers, convert_segment, numbers_in, realign, replace_spans, script_converter
from firescribe.text.cues import CueParams


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
    doc = convert_doc(doc_of(segments), ChineseParams(script="simplified", numbers=False))
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
    assert convert_doc(doc, ChineseParams(script=None, numbers=False)) is doc
    assert convert_doc(doc, None) is doc


def test_the_schema_offers_exactly_these_scripts():
    spec = yaml.safe_load(SCHEMA.read_text())["properties"]["chinese"]["properties"]["script"]
    assert spec["enum"] == [None, *SCRIPTS]


def test_the_option_is_a_merge_param():
    chinese = default_settings(chinese={"script": "taiwan"}).chinese
    assert chinese == ChineseParams(script="taiwan", numbers=False)
    assert default_settings().chinese == ChineseParams(script=None, numbers=False)  # default: as the model wrote it


# spoken -> as written with chinese.numbers (wetext's output, where it is what a subtitle
# reader expects; left as spoken where it is not)
NUMBER_CASES = [
    ("营收三点五亿元", "营收3.5亿元"),  # money
    ("花了五十块钱", "花了50块钱"),
    ("一共五百万", "一共500万"),
    ("增长了百分之七十二，对吧？", "增长了72%，对吧？"),  # percentages
    ("一千二百三十四家门店", "1234家门店"),  # counts with their measure word
    ("他跑了一百米", "他跑了100米"),  # the unit as spoken (wetext writes 100m)
    ("三点五公斤", "3.5公斤"),  # not 3.5kg
    ("零点五", "0.5"),  # decimals
    ("一九九八年", "1998年"),  # a year alone
    ("电话一三八零零一三八零零零", "电话13800138000"),  # a phone number read digit by digit
    # left as spoken: wetext writes 2025/03/0503:30:00p.m., 03/05, 11:30:00, 3.1刻, 2/3, 3~5
    ("二零二五年三月五号下午三点半开会", "二零二五年三月五号下午三点半开会"),
    ("三月五日", "三月五日"),
    ("十一点三十分", "十一点三十分"),
    ("今天十一点我们开会", "今天十一点我们开会"),  # a clock time (wetext: 11点)
    ("三点一刻", "三点一刻"),
    ("三分之二的人", "三分之二的人"),
    ("三五成群", "三五成群"),
    ("人民币三百元", "人民币三百元"),  # wetext: 人民币¥300
    ("三三两两", "三三两两"),  # wetext: 3322
    ("一二三走", "一二三走"),  # counting, not a number read digit by digit (wetext: 123走)
    # numbers inside words and approximations (wetext: 1.1点地, 998 11, 几10个, 10几个)
    ("一点一点地", "一点一点地"),
    ("九九八十一", "九九八十一"),
    ("几十个人", "几十个人"),
    ("十几个", "十几个"),
    ("我们一起去", "我们一起去"),
    ("等一下", "等一下"),
    ("四舍五入", "四舍五入"),
    ("张三和李四", "张三和李四"),
    ("第一次", "第一次"),
    ("两个苹果", "两个苹果"),
    ("万一他不来", "万一他不来"),
    ("一心一意", "一心一意"),
]


@pytest.mark.parametrize(("spoken", "written"), NUMBER_CASES, ids=[c[0] for c in NUMBER_CASES])
def test_spoken_numbers_as_a_subtitle_reader_expects(spoken, written):
    text, _ = replace_spans(spoken, [], numbers_in(spoken))
    assert text == written


def test_a_numbers_digits_take_the_span_of_its_spoken_words():
    segment = {"start": 0.0, "end": 4.0, "text": "营收三点五亿元。", "words": words("营收", "三", "点", "五", "亿元", "。")}
    out = convert_numbers(segment)
    assert out["text"] == "营收3.5亿元。"
    assert [(w["text"], w["start"], w["end"]) for w in out["words"]] == [("营收", 0.0, 0.5), ("3.5亿元", 1.0, 4.5), ("。", 5.0, 5.5)]
    assert out["words"][1]["confidence"] == pytest.approx(0.5)  # the lowest of the four words'
    assert convert_numbers({**segment, "text": "换一首歌", "words": words("换", "一首", "歌")})["words"] == words("换", "一首", "歌")


def test_numbers_reach_every_output(tmp_path):
    segments = [
        {"start": 0.0, "end": 2.0, "text": "增长了百分之七十二", "words": words("增长", "了", "百分之", "七十二")},
        {"start": 5.0, "end": 6.0, "text": "花了五十块钱", "words": []},  # FireRedASR-AED v1: no word times
    ]
    doc = convert_doc(doc_of(segments), ChineseParams(script=None, numbers=True))
    out = {fmt: str(tmp_path / f"a.{fmt}") for fmt in ("json", "txt", "srt", "vtt", "tsv")}
    write_outputs(doc, out, CueParams(7.0, 42, 16, 2, 0.6))
    for fmt, path in out.items():
        content = open(path, encoding="utf-8").read()
        assert "增长了72%" in content and "花了50块钱" in content and "七十二" not in content, fmt
    saved = json.loads(open(out["json"], encoding="utf-8").read())
    assert [w["text"] for w in saved["segments"][0]["words"]] == ["增长", "了", "72%"]


def test_numbers_are_a_merge_param_only_when_on():
    assert default_settings().chinese.params() == {"script": None}  # as before the option: no re-merge
    on = default_settings(chinese={"numbers": True}).chinese
    assert on.params() == {"script": None, "numbers": True} and ChineseParams.from_params(on.params()) == on


def test_spans_that_share_a_word_are_replaced_in_it_together():
    text = "跑了一百米和两百米"
    spans = [(2, 5, "100米"), (6, 9, "200米")]
    out, ws = replace_spans(text, words("跑了", "一百", "米和两", "百米"), spans)
    assert out == "跑了100米和200米"
    assert [(w["text"], w["start"], w["end"]) for w in ws] == [("跑了", 0.0, 0.5), ("100米和200米", 1.0, 3.5)]
    assert "".join(w["text"] for w in ws) == out


def test_numbers_are_found_before_the_script_is_converted():
    doc = doc_of([{"start": 0.0, "end": 2.0, "text": "营收三点五亿元", "words": words("营收", "三点五", "亿元")}])
    out = convert_doc(doc, ChineseParams(script="traditional", numbers=True))
    assert out["text"] == "營收3.5億元"
    assert [w["text"] for w in out["segments"][0]["words"]] == ["營收", "3.5億元"]
