"""The guard on every ASR unit (firescribe.text.guard): its rules, and its remedies on real models:
a random-weight FireRedASR-AED that loops (as the official code does on it) and whisper
tiny.en writing text on noise and tones."""

from __future__ import annotations

import dataclasses
import math
import subprocess

import pytest
from support import media, official
from support.settings import firered_options, whisper_options

from firescribe.settings import default_settings
from firescribe.steps.asr import transcribe_chunk
from firescribe.steps.plan import file_plan
from firescribe.text.guard import (
    GuardParams,
    ReadableParams,
    compression_ratio,
    cut_loops,
    event_over,
    file_scripts,
    find_loop,
    foreign_share,
    guard_unit,
    hold_back,
    language_scripts,
    tokens,
    trips,
)

GUARD = default_settings().asr.guard
OFF = dataclasses.replace(GUARD, enabled=False)


def test_defaults_come_from_the_schema():
    assert GUARD == GuardParams(True, 10, 2.4, 12, 7, -1.0, 0.6)


def test_tokens_are_cjk_characters_and_words():
    assert [t for t, _, _ in tokens("我们 Don't stop, OK2 嗯嗯")] == ["我", "们", "don't", "stop", "ok2", "嗯", "嗯"]


@pytest.mark.parametrize(
    "toks, expected",
    [
        (list("嗯" * 10), (0, 1, 10)),
        (list("嗯" * 9), None),  # 9 tokens < loop_tokens
        (["a", "b"] * 5, (0, 2, 5)),
        (["x", "a", "b", "c", "d"] + ["a", "b", "c", "d"] * 2, (1, 4, 3)),
        ("very very good".split(), None),
        ("thank you very much thank you very much thank you".split(), None),  # twice, then a part
    ],
)
def test_find_loop(toks, expected):
    assert find_loop(toks, 10) == expected


def test_compression_ratio_is_whispers():
    assert compression_ratio("") == 0.0
    assert compression_ratio("The quick brown fox jumps over the lazy dog.") < 1.2
    assert compression_ratio("Thank you. " * 30) > 2.4


def test_trips_each_rule():
    normal = [{"text": "The quick brown fox jumps over the lazy dog."}]
    assert trips(normal, 3.0, GUARD) == []
    assert trips([{"text": "KJ " * 80}], 10.0, GUARD) == ["repetition", "compression", "rate"]
    # rate: 25 distinct CJK characters in 1 s (> 12/s over 1 s + 1 s of slack)
    assert trips([{"text": "".join(chr(0x4E00 + 37 * i) for i in range(25))}], 1.0, GUARD) == ["rate"]
    assert trips([{"text": "".join(chr(0x4E00 + 37 * i) for i in range(25))}], 2.0, GUARD) == []
    nonspeech = [{"text": "you", "avg_logprob": -1.15, "no_speech_prob": 0.92}]
    assert trips(nonspeech, 22.0, GUARD) == ["no_speech"]
    assert trips([{**nonspeech[0], "avg_logprob": -0.5}], 22.0, GUARD) == []  # confident: kept


def test_cut_loops_keeps_the_first_occurrence():
    text = [{"text": "我们好 KJ KJ KJ KJ KJ KJ KJ KJ KJ KJ KJ 好的", "start": 0.0, "end": 5.0}]
    assert cut_loops(text, 10) == [{"text": "我们好 KJ 好的", "start": 0.0, "end": 5.0}]
    words = [{"text": " hi", "start": 0.0, "end": 0.2}] + [{"text": " go", "start": 0.2 * i, "end": 0.2 * i + 0.2} for i in range(1, 12)]
    cut = cut_loops([{"text": "", "start": 0.0, "end": 2.4, "words": words}], 10)[0]
    assert [w["text"] for w in cut["words"]] == [" hi", " go"] and cut["text"] == "hi go" and cut["end"] == 0.4


def test_guard_unit_keeps_untripped_units_and_records_remedies():
    normal = [{"text": "The quick brown fox."}]
    assert guard_unit(normal, 3.0, GUARD, redecode=lambda: pytest.fail("no re-decode for a normal unit")) == (normal, None)
    loop = [{"text": "KJ " * 80}]
    fixed = [{"text": "hello there"}]
    sampled = {"sampled": True, "temperatures": [0.2], "seed": 7}
    assert guard_unit(loop, 10.0, GUARD, lambda: (fixed, sampled)) == (
        fixed, {"tripped": ["repetition", "compression", "rate"], "actions": ["redecoded", "kept_redecode"], "redecode": sampled, "tripped_after": []})
    segs, rec = guard_unit(loop, 10.0, GUARD, lambda: (loop, {"sampled": False}))
    assert segs == [{"text": "KJ"}] and rec["actions"] == ["redecoded", "kept_redecode", "cut_loops"]
    nonspeech = [{"text": "you", "avg_logprob": -1.2, "no_speech_prob": 0.9}]
    assert guard_unit(nonspeech, 20.0, GUARD, lambda: (nonspeech, {"sampled": False}))[0] == []


def unit_texts(doc: dict) -> list[str]:
    return [" ".join(s["text"] for s in u["segments"]) for u in doc["units"]]


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """Speech, then 20 s of brown noise (sox -R: the same noise every run), then a tone melody: one unit each."""
    root = tmp_path_factory.mktemp("guard")
    utts = media.speech_track(media.SENTENCES[:3], [0.5, 0.5, 0.5], root / "speech.wav")
    subprocess.run(["sox", "-R", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(root / "noise.wav"), "synth", "20", "brownnoise", "vol", "0.5"], check=True)
    notes = [a for f in (440, 523, 659, 784) for a in ("synth", "0.5", "sine", str(f), ":")][:-1]
    subprocess.run(["sox", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(root / "tones.wav"), *notes, "repeat", "10", "vol", "0.5"], check=True)
    subprocess.run(["sox", "-D", *(str(root / f) for f in ("speech.wav", "noise.wav", "tones.wav")), str(root / "talk.wav")], check=True)
    end = utts[-1].end + 0.5
    units = [[(0.0, round(end, 3))], [(round(end, 3), round(end + 20, 3))], [(round(end + 20, 3), round(end + 40, 3))]]
    return {"root": root, "wavs": {"talk": str(root / "talk.wav")}, "units": units, "plan": file_plan("talk", units, chunk_s=math.inf)}


@pytest.mark.media_tools
def test_whisper_text_on_noise_is_caught_and_speech_untouched(talk):
    from firescribe.engines.backends.whisper import WhisperBackend

    backend = WhisperBackend(whisper_options(), threads=2)
    off = transcribe_chunk(backend, talk["wavs"], talk["plan"], 0, "en", 240.0, OFF)
    on = transcribe_chunk(backend, talk["wavs"], talk["plan"], 0, "en", 240.0, GUARD)
    print(unit_texts(off), unit_texts(on), [u.get("guard") for u in on["units"]])
    assert all(unit_texts(off)[1:]), "tiny.en writes text on noise and tones without the guard"
    assert on["units"][0] == off["units"][0]  # speech: untouched, no record
    for unit in on["units"][1:]:
        assert "no_speech" in unit["guard"]["tripped"]
        assert unit["guard"]["actions"][0] == "redecoded"
        assert unit["segments"] == [] or "no_speech" not in unit["guard"]["tripped_after"]


@pytest.mark.media_tools
def test_fireredasr_loop_is_redecoded_then_cut(talk):
    from firescribe.engines.backends.fireredasr import FireRedAedBackend

    model_dir = official.make_model_dir(talk["root"] / "model")
    backend = FireRedAedBackend(firered_options(model_dir), threads=2)
    plan = file_plan("talk", talk["units"][:1], chunk_s=math.inf)
    off = transcribe_chunk(backend, talk["wavs"], plan, 0, "zh", 120.0, OFF)
    assert find_loop([t for t, _, _ in tokens(unit_texts(off)[0])], GUARD.loop_tokens), "the random model loops"
    assert "guard" not in off["units"][0]  # guard off: the decoder's output as it is
    on = transcribe_chunk(backend, talk["wavs"], plan, 0, "zh", 120.0, GUARD)
    record = on["units"][0]["guard"]
    assert "repetition" in record["tripped"] and record["actions"][0] == "redecoded"
    for seg in on["units"][0]["segments"]:
        assert find_loop([t for t, _, _ in tokens(seg["text"])], GUARD.loop_tokens) is None
    assert len(unit_texts(on)[0]) < len(unit_texts(off)[0])
    seconds = talk["units"][0][0][1]
    assert all(0 <= s["start"] <= s["end"] <= seconds + 1e-3 for s in on["units"][0]["segments"])


READABLE = default_settings().readable


def test_readable_defaults_come_from_the_schema():
    assert READABLE == ReadableParams(True, "♪", True, 0.2, 3.0, 0.6)


@pytest.mark.parametrize(
    "text, language, share",
    [
        ("десят ré如瑕", "zh", 0.5),  # the song's cues (issue 30): Cyrillic and Latin in Chinese
        ("prze 趴 趴到", "zh", 0.25),
        ("我们今天讨论一下AI的发展", "zh", 1 / 12),  # a Latin word in Mandarin speech: under 0.2
        ("Thank you very much", "zh", 0.0),  # all English in a Mandarin file: a quote, not fragments
        ("Спасибо, thank you", "zh", 1 / 3),  # Cyrillic is foreign in any case
        ("Hello 你好 world", "en", 0.5),  # the reverse
        ("The quick brown fox, 42 times.", "en", 0.0),  # digits have no script
        ("Привет, как дела?", "ru", 0.0),
        ("호盛若", "ko", 0.0),
        ("호盛若", "zh-CN", 1 / 3),
    ],
)
def test_foreign_share(text, language, share):
    assert foreign_share(text, language_scripts(language)) == pytest.approx(share)


def test_file_scripts_stand_for_a_language_never_given():
    assert file_scripts(["десят ré如瑕", "호盛若", "prze 趴 趴到"]) == {"Han"}
    assert file_scripts(["The quick brown fox", "jumps"]) == {"Latin"}
    assert file_scripts(["こんにちは世界"]) == {"Han", "Kana"}
    assert file_scripts(["", "42"]) is None and language_scripts(None) is None


def test_event_over_needs_half_the_unit():
    events = [{"start": 0.0, "end": 10.0, "event": "music"}, {"start": 4.0, "end": 9.0, "event": "singing"}]
    assert event_over((4.0, 9.0), events) == "singing"  # singing first
    assert event_over((8.0, 12.0), events) == "music"  # 2 of 4 s
    assert event_over((9.5, 12.0), events) is None


def word(text, start, end, confidence=0.9):
    return {"text": text, "start": start, "end": end, "confidence": confidence}


def test_hold_back_reasons():
    en = language_scripts("en")
    speech = [{"text": "Thank you very much.", "start": 0.0, "end": 1.5, "words": [word(" Thank", 0.0, 0.4), word(" you", 0.4, 0.6), word(" very", 0.6, 1.0), word(" much.", 1.0, 1.5)]}]
    assert hold_back(speech, [(0.0, 2.0)], None, en, None, GUARD, READABLE) is None
    assert hold_back([{**speech[0], "text": "谢谢你 very much."}], [(0.0, 2.0)], None, en, None, GUARD, READABLE) == "script"
    assert hold_back(speech, [(0.0, 2.0)], None, language_scripts("zh"), None, GUARD, READABLE) is None  # English quoted in Mandarin
    mixed = [{"text": "prze 趴 趴到 ré", "start": 0.0, "end": 1.5, "words": []}]
    assert hold_back(mixed, [(0.0, 2.0)], None, language_scripts("zh"), None, GUARD, READABLE) == "script"
    stretched = [{**speech[0], "words": [word(" Thank", 0.0, 0.4), word(" you", 0.4, 7.7)]}]  # 7.3 s (issue 30)
    assert hold_back(stretched, [(0.0, 8.0)], None, en, None, GUARD, READABLE) == "long_word"
    # a stitched unit: the word ends after a pause the plan cut out; 0.8 s of its audio
    # (the workflow's espeak-ng "day." at the end of a span, tiny.en)
    stitched = [{"text": "day.", "start": 51.764, "end": 55.284, "words": [word(" day.", 51.764, 55.284)]}]
    assert hold_back(stitched, [(44.816, 52.464), (55.184, 59.312)], None, en, None, GUARD, READABLE) is None
    unsure = [{**speech[0], "words": [{**w, "confidence": 0.3} for w in speech[0]["words"]]}]
    assert hold_back(unsure, [(0.0, 2.0)], None, en, None, GUARD, READABLE) is None  # low confidence alone: speech
    assert hold_back(unsure, [(0.0, 2.0)], None, en, "music", GUARD, READABLE) == "music"
    assert hold_back(unsure, [(0.0, 2.0)], None, en, "singing", GUARD, READABLE) == "singing"
    assert hold_back(speech, [(0.0, 2.0)], None, en, "singing", GUARD, READABLE) is None  # confident lyrics stay
    assert hold_back(speech, [(0.0, 2.0)], None, en, "singing", GUARD, dataclasses.replace(READABLE, lyrics=False)) == "singing"
    loop = [{"text": "KJ " * 80}]
    record = {"tripped": ["repetition"], "actions": ["redecoded", "kept_redecode", "flagged"], "tripped_after": ["rate"]}
    assert hold_back(loop, [(0.0, 10.0)], record, en, None, GUARD, READABLE) == "still_trips"
    assert hold_back([{"text": "KJ"}], [(0.0, 10.0)], record, en, None, GUARD, READABLE) is None  # its loops cut: readable
    assert hold_back([], [(0.0, 10.0)], record, en, "music", GUARD, READABLE) is None  # nothing to hold back
