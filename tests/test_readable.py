"""Text that is not language never reaches a subtitle (docs/guard.md), on real output: the
workflow with the multilingual whisper model bundled:base and FireRedVAD's event model on
speech over background music (English, and espeak-ng's Mandarin, which base reads as pinyin
with tone digits), sung vocals over music, and instrumental music."""

from __future__ import annotations

import json

import jiwer
import pandas as pd
import pysubs2
import pytest
from support import media
from support.workflow import snakemake

from firescribe.settings import default_settings
from firescribe.text.guard import file_scripts, foreign_share, language_scripts

pytestmark = [pytest.mark.slow, pytest.mark.media_tools]  # workflow runs; makes media with espeak-ng, sox, ffmpeg

READABLE = default_settings().readable
ENGLISH = " ".join(media.SENTENCES[1:4])
MANDARIN = "今天天气很好，我们九点在车站见面。请把这些东西从商店带过来。"
SUNG = "la la la la, oh baby baby, la la la la, oh yeah yeah, na na na na na"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("readable")
    src, m = root / "src", root / "media"
    src.mkdir()
    m.mkdir()
    music = media.music(src / "music.wav", 30)
    media.over_music(media.speak(ENGLISH, src / "en.wav"), music, m / "speech_over_music_en.wav", 0.3)  # background: -10 dB
    media.over_music(media.speak(MANDARIN, src / "zh.wav", voice="cmn", speed=150), music, m / "speech_over_music_zh.wav", 0.3)
    # "sung": slow and high over louder music; FireRedVAD's event model hears singing
    media.over_music(media.speak(SUNG, src / "sung.wav", speed=90, pitch=80), music, m / "sung_en.wav", 0.8)
    media.music(m / "instrumental.wav", 12)
    media.organ(m / "organ.wav", 8)
    sheet = root / "sheet.tsv"
    languages = {"speech_over_music_en": "en", "sung_en": "en"}  # the rest: language null
    sheet.write_text("sample\tpath\tlanguage\n" + "".join(f"{p.stem}\t{p}\t{languages.get(p.stem, '')}\n" for p in sorted(m.glob("*.wav"))))
    work = root / "run"
    work.mkdir()
    config = {"input": str(sheet), "whisper": {"model": "bundled:base"}, "vad": {"model": "fireredvad", "fireredvad": {"events": True}}}
    snakemake(work, config=config)
    res = work / "results"
    docs = {p.stem: json.loads(p.read_text()) for p in (res / "transcripts").glob("*.json")}
    return {"results": res, "docs": docs, "table": pd.read_csv(res / "corpus.tsv", sep="\t").set_index("sample"), "languages": languages}


def test_no_cue_a_viewer_cannot_read(run):
    """Every text cue is in its file's scripts, no word lasts longer than max_word_s; the
    rest are markers, each a unit held back in guarded_units and counted in the table."""
    for sample, doc in run["docs"].items():
        texts = [s["text"] for s in doc["segments"] if "held_back" not in s]
        scripts = language_scripts(run["languages"].get(sample)) or file_scripts(texts)
        for s in doc["segments"]:
            if "held_back" in s:
                assert s["text"] == READABLE.marker and s["words"] == []
                continue
            assert foreign_share(s["text"], scripts) <= READABLE.foreign_script_share, (sample, s["text"])
            assert all(w["end"] - w["start"] <= READABLE.max_word_s for w in s["words"]), (sample, s)
        held = [g for g in doc["guarded_units"] if "held_back" in g]
        assert [(g["start"], g["end"]) for g in held] == [(s["start"], s["end"]) for s in doc["segments"] if "held_back" in s]
        assert run["table"].loc[sample, "held_back"] == len(held)
        assert run["table"].loc[sample, "n_segments"] == len(texts)


def test_speech_over_background_music_is_kept(run):
    doc = run["docs"]["speech_over_music_en"]
    assert doc["status"] == "ok" and not [g for g in doc["guarded_units"] if "held_back" in g]
    assert jiwer.wer(ENGLISH.lower(), doc["text"].lower()) < 0.35, doc["text"]


def test_singing_and_music_become_markers(run):
    """The sung file shows markers (or lyrics, marked ♪ ... ♪), the instrumental files no text:
    status empty, "music/singing only" where markers stand for the music."""
    sung = run["docs"]["sung_en"]
    assert sung["status"] == "empty" and sung["reason"] == "music/singing only", sung["reason"]
    assert sung["segments"] and all("held_back" in s or s.get("lyrics") for s in sung["segments"])
    assert {g["held_back"] for g in sung["guarded_units"]} <= {"music", "singing"}
    srt = pysubs2.load(str(run["results"] / "transcripts" / "sung_en.srt"))
    assert [e.plaintext for e in srt] == [READABLE.marker if "held_back" in s else f"♪ {s['text']} ♪" for s in sung["segments"]]
    organ = run["docs"]["organ"]
    assert organ["status"] == "empty" and organ["reason"] == "music/singing only" and organ["text"] == ""
    assert [s["text"] for s in organ["segments"]] == [READABLE.marker]
    assert run["docs"]["instrumental"]["status"] == "empty" and run["docs"]["instrumental"]["text"] == ""
