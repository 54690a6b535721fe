"""Subtitle cue cutting from word timestamps, and the transcript TSV."""

import dataclasses
import io

import pandas as pd
import pysubs2
import pytest

from firescribe.plumbing.loudness import Loudness
from firescribe.settings import default_settings
from firescribe.steps.merge import segments_tsv
from firescribe.text.cues import pause_breaks, snap_to_speech, words_to_cues, wrap

DEFAULT = default_settings().subtitles


def words(spec):
    """spec: list of (text, start, end)"""
    return [{"text": t, "start": a, "end": b} for t, a, b in spec]


def test_long_cue_splits_at_its_longest_pause_not_where_it_overflows():
    ws = words([(" He", 0.0, 0.3), (" opened", 0.3, 0.7), (" the", 0.7, 0.8), (" room", 0.8, 1.2),
                (" Music", 1.6, 2.0), (" can", 2.05, 2.3), (" change", 2.35, 2.8), (" moods", 2.85, 3.4)])
    cues = words_to_cues(ws, dataclasses.replace(DEFAULT, max_cue_s=3.0))
    assert [c["text"] for c in cues] == ["He opened the room", "Music can change moods"]
    assert (cues[1]["start"], cues[1]["end"]) == (1.6, 3.4)


def test_cues_break_at_vad_pauses_and_sentence_ends():
    ws = words([(" One", 0.0, 0.4), (" two.", 0.4, 0.9), (" Three", 0.95, 1.3), (" four", 1.3, 1.7), (" five", 1.75, 2.1)])
    breaks = pause_breaks([(0.0, 1.5), (1.72, 2.2)])  # a VAD silence between "four" and "five"
    cues = words_to_cues(ws, DEFAULT, breaks)
    assert [c["text"] for c in cues] == ["One two.", "Three four", "five"]


def _spread(text: str, start: float, end: float) -> list[dict]:
    """Word timestamps with no gaps at all, as a decoder gives when it stretches words
    across pauses."""
    toks = text.split()
    step = (end - start) / len(toks)
    return [{"text": " " + t, "start": start + i * step, "end": start + (i + 1) * step} for i, t in enumerate(toks)]


@pytest.mark.media_tools
def test_long_cue_splits_at_the_pause_heard_in_the_audio(tmp_path):
    """Two unpunctuated sentences 0.45 s apart whose word timestamps show no gap (the
    pause is shared out to the words either side, as faster-whisper does): the audio
    tells where the pause is, and the cue is cut there, not at the length limit."""
    from support import media

    a, b = "He opened the window to let some fresh air into the room", "Music can change the mood of a room in a few seconds"
    utts = media.speech_track([a, b], [0.45, 0.2], tmp_path / "two.wav")
    loudness = Loudness.of_wav(str(tmp_path / "two.wav"))
    p = dataclasses.replace(DEFAULT, max_cue_s=utts[1].end - 1.0, line_chars=200)
    for share in (0.2, 0.4, 0.6, 0.8):  # where in the pause the decoder put the word boundary
        edge = utts[0].end + share * (utts[1].start - utts[0].end)
        first, second = _spread(a, utts[0].start, utts[0].end), _spread(b, utts[1].start, utts[1].end)
        first[-1]["end"] = second[0]["start"] = edge
        ws = first + second
        assert [c["text"] for c in words_to_cues(ws, p, loudness=loudness)] == [a, b], share
        # without the audio, the gap-less timestamps give no reason to cut there
        assert [c["text"] for c in words_to_cues(ws, p)] != [a, b]


def test_word_edges_in_a_vad_silence_move_onto_the_speech():
    ws = words([(" room", 3.0, 3.4), (" He", 3.4, 4.5), (" went", 4.5, 4.8)])
    speech = [(0.0, 3.5), (4.2, 6.0)]
    snapped = snap_to_speech(ws, speech)
    assert [(w["start"], w["end"]) for w in snapped] == [(3.0, 3.4), (3.4, 4.5), (4.5, 4.8)]
    speech = [(0.0, 3.3), (3.9, 6.0)]  # "He" really starts at 3.9; "room" ends at 3.3
    snapped = snap_to_speech(ws, speech)
    assert [(w["start"], w["end"]) for w in snapped] == [(3.0, 3.3), (3.9, 4.5), (4.5, 4.8)]


def test_cjk_lines_and_cues_follow_the_chinese_limits():
    # 16 characters per line, 2 lines: 40 characters of Chinese make a cue too long
    chars = "我们今天去公园玩了很久然后回家吃饭看电视再睡觉明天早上八点起床去上班"[:40]
    ws = words([(c, 0.1 * i, 0.1 * i + 0.1) for i, c in enumerate(chars)])
    cues = words_to_cues(ws, DEFAULT)
    assert len(cues) == 2 and "".join(c["text"] for c in cues) == chars
    assert all(len(wrap(c["text"], DEFAULT)) <= 2 for c in cues)
    assert [len(line) for line in wrap(chars[:30], DEFAULT)] == [15, 15]  # balanced
    assert wrap("the quick brown fox jump over the lazy dog.", DEFAULT) == ["the quick brown fox", "jump over the lazy dog."]


def test_lines_never_break_inside_an_english_word():
    text = "我们今天用Snakemake和FireRedASR转写了很多视频，效果很好"
    lines = wrap(text, DEFAULT)
    assert "".join(lines) == text and len(lines) == 2  # 17 CJK + 1 mark + 19 half-width letters
    assert all(DEFAULT.width(line, True) <= 16 for line in lines)
    assert all(w in line for w in ("Snakemake", "FireRedASR") for line in lines if w[:3] in line)
    english = wrap("The quick brown fox jumps over the lazy dog and then runs into the forest.", DEFAULT)
    assert english == ["The quick brown fox jumps over the", "lazy dog and then runs into the forest."]  # balanced: 34 + 39
    assert DEFAULT.line_limit("Hello world 你") == 42 and DEFAULT.line_limit("你好世界 ok") == 16


def test_segments_tsv_reads_back_with_pandas_whatever_the_text():
    texts = ["plain", 'a "quoted" word', "tab\there", "two\nlines", "", "中文，标点。"]
    doc = {"segments": [{"start": i + 0.0004, "end": i + 1.5, "text": t} for i, t in enumerate(texts)]}
    table = pd.read_csv(io.StringIO(segments_tsv(doc)), sep="\t", keep_default_na=False, dtype=str)
    assert list(table.columns) == ["start", "end", "text"]
    assert table["text"].tolist() == texts
    assert table["start"].tolist()[:2] == ["0.000", "1.000"] and table["end"].tolist()[0] == "1.500"


def test_units_a_viewer_cannot_read_become_markers_and_sung_text_lyrics():
    """merge_transcript on chunk units over FireRedVAD's events: confident text over singing
    stays as lyrics (♪ text ♪ in SRT), unsure text over music and Cyrillic in an English
    file become markers, counted in guarded_units; all held back: status empty."""
    from firescribe.steps.merge import merge_transcript, subtitles

    settings = default_settings()
    params = {"asr": settings.asr.params()}

    def unit(text, a, b, conf):
        ws = [{"text": f" {t}", "start": a + i * 0.4, "end": a + i * 0.4 + 0.3, "confidence": conf} for i, t in enumerate(text.split())]
        return {"sample": "s", "unit": 0, "spans": [[a, b]], "segments": [{"start": a, "end": b, "text": text, "words": ws, "avg_logprob": -0.3, "no_speech_prob": 0.1}]}

    units = [unit("oh yeah yeah", 0.0, 2.0, 0.8), unit("na na baby", 3.0, 5.0, 0.3), unit("привет мир hello", 6.0, 8.0, 0.9)]
    heard = {"untranscribed": [{"start": 9.0, "end": 12.0, "event": "singing"}],
             "events": [{"start": 0.0, "end": 2.0, "event": "singing"}, {"start": 2.5, "end": 12.0, "event": "music"}]}
    info = {"status": "ok", "source": "s.wav", "duration": 12.0}
    doc = merge_transcript("s", info, 3, units, None, params, DEFAULT, heard=heard, readable=settings.readable, language="en")
    assert [(s["text"], s.get("held_back"), s.get("lyrics")) for s in doc["segments"]] == [
        ("oh yeah yeah", None, True), ("♪", "music", None), ("♪", "script", None), ("♪", "singing", None)]
    assert doc["text"] == "oh yeah yeah" and doc["status"] == "ok"
    assert [g["held_back"] for g in doc["guarded_units"]] == ["music", "script", "singing"]
    assert [e.plaintext for e in pysubs2.SSAFile.from_string(subtitles(doc, "srt", DEFAULT))] == ["♪ oh yeah yeah ♪", "♪", "♪", "♪"]
    no_lyrics = dataclasses.replace(settings.readable, lyrics=False, marker="")
    doc = merge_transcript("s", info, 3, units, None, params, DEFAULT, heard=heard, readable=no_lyrics, language="en")
    assert doc["segments"] == [] and doc["status"] == "empty"
    assert doc["reason"] == "only text the guard held back (music, script, singing)"
    doc = merge_transcript("s", info, 3, units[:2], None, params, DEFAULT, heard=heard, readable=no_lyrics, language="en")
    assert doc["reason"] == "music/singing only"
