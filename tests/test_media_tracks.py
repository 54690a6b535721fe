"""Every voice a file holds, on the media's clock: audio that starts after the video (MP4 and
MKV, a fraction of a second and several seconds), several audio tracks (the one with speech
is found, or the one asked for), channels that cancel in the mono downmix, a cut WAV. Each
case end to end: the speech is found, its cues lie within 0.2 s of where it is on the media's
timeline, and the corpus row says what was used."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest
from support import media
from support.workflow import snakemake

from firescribe.steps.extract import extract_audio, ffmpeg_input, pcm_output

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg

LEAD = 1.0  # silence before the first sentence in the speech WAV


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def sox(*args: str) -> None:
    subprocess.run(["sox", "-D", *args], check=True)


def black_video(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"color=c=black:s=160x120:r=5:d={seconds:.2f}"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("tracks")
    src, m = root / "src", root / "media"
    src.mkdir()
    m.mkdir()
    bare = src / "bare.wav"
    utts = media.speech_track([media.SENTENCES[0], media.SENTENCES[2]], [1.0, 0.5], bare)
    speech = src / "speech.wav"
    sox(str(bare), str(speech), "pad", str(LEAD), "0.5")
    utts = [media.Utterance(u.text, u.start + LEAD, u.end + LEAD) for u in utts]
    seconds = media.duration(speech)
    tone = media.tones(src / "tone.wav", seconds, (440,))
    # speech -> (file, where the speech's first sample lies on the media's timeline)
    offsets = {"late_mp4": 4.5, "late_mkv": 0.4}
    ffmpeg(*black_video(seconds + 5), "-itsoffset", "4.5", "-i", str(speech), "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ar", "44100", str(m / "late_mp4.mp4"))  # fmt: skip
    ffmpeg(*black_video(seconds + 1), "-itsoffset", "0.4", "-i", str(speech), "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libopus", str(m / "late_mkv.mkv"))  # fmt: skip
    # a tone (English, the default track) and speech (French tag) as two tracks
    ffmpeg("-i", str(tone), "-i", str(speech), "-map", "0:a", "-map", "1:a", "-c:a", "aac",
           "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fre",
           "-disposition:a:0", "default", "-disposition:a:1", "0", str(m / "two_tracks.mkv"))  # fmt: skip
    sox(str(speech), "-c", "2", str(m / "antiphase.wav"), "remix", "1", "1i")  # right = -left
    sox(str(speech), "-c", "2", str(m / "stereo.wav"))
    data = (m / "stereo.wav").read_bytes()
    whole = src / "whole.wav"
    whole.write_bytes(data)
    cut_at = 44 + 4 * int(16000 * (utts[0].end + 0.3))  # after the first sentence
    (m / "cut.wav").write_bytes(data[:cut_at])
    # a call: one speaker a channel, the second answering after the first
    call = {}
    for channel, (text, lead, voice) in enumerate([(media.SENTENCES[0], 1.0, "en-us"), (media.SENTENCES[2], 5.5, "en-gb")], 1):
        said = src / f"said{channel}.wav"
        (u,) = media.speech_track([text], [0.2], said, voice=voice)
        sox(str(said), str(src / f"side{channel}.wav"), "pad", str(lead), "3")
        call[channel] = media.Utterance(text, u.start + lead, u.end + lead)
    sox("-M", str(src / "side1.wav"), str(src / "side2.wav"), str(src / "call.wav"), "trim", "0", "11")
    return {"root": root, "media": m, "src": src, "utts": utts, "offsets": offsets, "seconds": seconds, "call": call}


@pytest.fixture(scope="module")
def run(made):
    work = made["root"] / "run"
    work.mkdir()
    snakemake(work, config={"input": str(made["media"])})
    res = work / "results"
    table = pd.read_csv(res / "corpus.tsv", sep="\t", keep_default_na=False).set_index("sample")
    docs = {s: json.loads((res / "transcripts" / f"{s}.json").read_text()) for s in table.index}
    return {"table": table, "docs": docs, "res": res}


def cue_times(doc: dict) -> tuple[float, float]:
    return doc["segments"][0]["start"], doc["segments"][-1]["end"]


def assert_on_time(doc: dict, utts, offset: float) -> None:
    """Speech found, and its cues where the speech is on the media's timeline (0.2 s)."""
    assert doc["status"] == "ok" and "station" in doc["text"].lower(), doc["text"]
    start, end = cue_times(doc)
    assert abs(start - (utts[0].start + offset)) <= 0.2, (start, utts[0].start + offset)
    assert abs(end - (utts[-1].end + offset)) <= 0.2, (end, utts[-1].end + offset)


@pytest.mark.parametrize("sample", ["late_mp4", "late_mkv"])
def test_audio_that_starts_late_is_timed_on_the_media_timeline(made, run, sample):
    offset = made["offsets"][sample]
    doc, row = run["docs"][sample], run["table"].loc[sample]
    assert_on_time(doc, made["utts"], offset)
    # the SRT and TSV carry the same times
    tsv = pd.read_csv(run["res"] / "transcripts" / f"{sample}.tsv", sep="\t")
    assert abs(tsv["start"].iloc[0] - (made["utts"][0].start + offset)) <= 0.2
    srt = (run["res"] / "transcripts" / f"{sample}.srt").read_text()
    first = srt.split("\n")[1].split(" --> ")[0]  # 00:00:05,530
    h, mnt, sec = first.replace(",", ".").split(":")
    assert abs(int(h) * 3600 + int(mnt) * 60 + float(sec) - (made["utts"][0].start + offset)) <= 0.2, first
    # the row: the audio starts `offset` in (within an AAC/Opus priming frame), duration to its end
    assert abs(row["audio_offset_s"] - offset) <= 0.1, row.to_dict()
    assert row["audio_used"] == "a:0" and row["duration_s"] >= made["seconds"] + offset - 0.1
    assert row["warnings"] == ""


def test_the_track_with_speech_is_transcribed(made, run):
    doc, row = run["docs"]["two_tracks"], run["table"].loc["two_tracks"]
    assert_on_time(doc, made["utts"], 0.0)
    assert row["audio_tracks"] == "a:0 eng aac 1ch default; a:1 fre aac 1ch", row["audio_tracks"]
    assert row["audio_used"] == "a:1"
    speech = [t["speech_s"] for t in doc["audio"]["tracks"]]
    assert speech[0] < 0.5 < speech[1], speech


def test_channels_that_cancel_in_the_downmix_are_transcribed_from_one_channel(made, run):
    doc, row = run["docs"]["antiphase"], run["table"].loc["antiphase"]
    assert_on_time(doc, made["utts"], 0.0)
    assert row["audio_used"] == "a:0 channel 1 of 2"
    assert "channels cancel in the mono downmix" in row["warnings"]


def test_ordinary_files_are_as_they_were(made, run):
    doc, row = run["docs"]["stereo"], run["table"].loc["stereo"]
    assert_on_time(doc, made["utts"], 0.0)
    assert (row["audio_used"], row["audio_offset_s"], row["warnings"]) == ("a:0", 0.0, "")
    assert row["audio_tracks"] == "a:0 und pcm_s16le 2ch"


def test_a_cut_wav_is_transcribed_as_far_as_it_goes_and_says_so(made, run):
    doc, row = run["docs"]["cut"], run["table"].loc["cut"]
    assert doc["status"] == "ok" and "quick" in doc["text"].lower()
    assert "decoded partly: the file is cut short" in row["warnings"], row["warnings"]
    assert row["duration_s"] < made["seconds"] - 2


def test_a_track_asked_for_and_channels_apart(made, tmp_path):
    """audio.track: a track number (a chosen track without speech says in its reason which
    track has speech) or a language tag; audio.channels: apart transcribes each channel of a
    call on its own, each cue labelled with its channel and on the media's timeline."""
    only = tmp_path / "media"
    only.mkdir()
    (only / "two_tracks.mkv").write_bytes((made["media"] / "two_tracks.mkv").read_bytes())
    (only / "call.wav").write_bytes((made["src"] / "call.wav").read_bytes())
    work = tmp_path / "run"
    work.mkdir()
    snakemake(work, config={"input": str(only), "audio": {"track": 0, "channels": "apart"}})
    table = pd.read_csv(work / "results" / "corpus.tsv", sep="\t", keep_default_na=False).set_index("sample")
    row = table.loc["two_tracks"]
    assert row["status"] == "empty" and row["audio_used"] == "a:0", row.to_dict()
    assert "audio track 1 carries speech" in row["reason"], row["reason"]
    row = table.loc["call"]
    assert row["audio_used"] == "a:0 channels 1-2 apart" and abs(row["duration_s"] - 11) < 0.01, row.to_dict()
    doc = json.loads((work / "results" / "transcripts" / "call.json").read_text())
    cues = doc["segments"]
    assert [c["channel"] for c in cues] == [1, 2], cues
    assert "quick" in cues[0]["text"].lower() and cues[0]["text"].startswith("[1] ")
    assert "station" in cues[1]["text"].lower() and cues[1]["text"].startswith("[2] ")
    for cue, said in zip(cues, (made["call"][1], made["call"][2])):
        assert abs(cue["start"] - said.start) <= 0.2 and abs(cue["end"] - said.end) <= 0.2, (cue, said)
        assert all(said.start - 0.2 <= w["start"] <= w["end"] <= said.end + 0.2 for w in cue["words"])
    srt = (work / "results" / "transcripts" / "call.srt").read_text()
    assert "[1] " in srt and "[2] " in srt
    info = extract_audio(only / "two_tracks.mkv", tmp_path / "fr.wav", tmp_path / "fr.json", track="fr")
    assert info.track == 1 and info.warnings == []
    info = extract_audio(only / "two_tracks.mkv", tmp_path / "de.wav", tmp_path / "de.json", track="de")
    assert info.track == 1 and "no audio track in 'de'" in info.warnings[0]  # automatic choice instead


@pytest.mark.parametrize("name", ["stereo.wav", "late_mkv.mkv"])
def test_an_ordinary_track_decodes_to_the_bytes_it_always_did(made, tmp_path, name):
    """Files with one track from the media's start and channels that downmix: the WAV the
    earlier command made (byte for byte), so a finished corpus is as it was. (A late start
    changes the WAV: there, only the silence before it is new.)"""
    src = made["media"] / name
    legacy = tmp_path / "legacy.wav"
    subprocess.run(ffmpeg_input(str(src)) + pcm_output(str(legacy)), check=True, capture_output=True)
    info = extract_audio(src, tmp_path / "now.wav", tmp_path / "now.json")
    now = (tmp_path / "now.wav").read_bytes()
    if info.offset:
        pad = 44 + 2 * round(16000 * info.offset)
        assert abs(len(now) - len(legacy.read_bytes()) - (pad - 44)) <= 2 * 16000 * 0.02
    else:
        assert now == legacy.read_bytes()


def test_choosing_among_tracks():
    from firescribe.steps.extract import AudioTrack, choose_track

    def tracks(*specs):
        return [AudioTrack(i, lang, "aac", 2, default, 0.0, speech) for i, (lang, default, speech) in enumerate(specs)]

    # the one with speech, whatever the default or language
    assert choose_track(tracks(("eng", True, 0.0), ("fre", False, 12.0)), None, "en") == (1, [])
    # several with speech: the one in the run's language, then the default one, then the first
    both = tracks(("eng", True, 30.0), ("chi", False, 30.0), ("", False, 30.0))
    assert choose_track(both, None, "zh")[0] == 1
    assert choose_track(both, None, None)[0] == 0
    assert choose_track(tracks(("", False, 9.0), ("", False, 9.0)), None, None)[0] == 0
    # none with speech: the same order over all of them
    assert choose_track(tracks(("eng", False, 0.0), ("fre", True, 0.0)), None, None)[0] == 1
    # asked for: by number or language tag (ISO 639-1 or -2); a missing one falls back, saying so
    assert choose_track(both, 2, None) == (2, [])
    assert choose_track(both, "1", None) == (1, [])
    assert choose_track(both, "zh", None) == (1, []) and choose_track(both, "zho", None) == (1, [])
    index, warnings = choose_track(both, 5, "zh")
    assert index == 1 and "no audio track 5" in warnings[0] and "a:2 und aac 2ch" in warnings[0]
    assert choose_track([], "fr", None) == (0, [])  # nothing probed: ffmpeg's first audio track


def test_every_track_as_outputs_of_its_own(made, tmp_path):
    """audio.track: all: each audio track transcribed as <sample>.track<n>.*, each on the
    media's timeline (the speech track here starts 2 s in); the file's own transcript is the
    automatic choice's."""
    only = tmp_path / "media"
    only.mkdir()
    ffmpeg("-i", str(made["src"] / "tone.wav"), "-itsoffset", "2", "-i", str(made["src"] / "speech.wav"),
           "-map", "0:a", "-map", "1:a", "-c:a", "libopus", str(only / "dubbed.mkv"))  # fmt: skip
    work = tmp_path / "run"
    work.mkdir()
    snakemake(work, config={"input": str(only), "audio": {"track": "all"}})
    out = work / "results" / "transcripts"
    main, tone, speech = (json.loads((out / f"dubbed{part}.json").read_text()) for part in ("", ".track0", ".track1"))
    assert_on_time(speech, made["utts"], 2.0)
    assert main["segments"] == speech["segments"] and main["audio"]["track"] == 1
    assert (tone["status"], tone["reason"], tone["audio"]["track"], tone["segments"]) == ("empty", "no speech found", 0, [])
    assert (out / "dubbed.track1.srt").read_text() == (out / "dubbed.srt").read_text()
    row = pd.read_csv(work / "results" / "corpus.tsv", sep="\t", keep_default_na=False).iloc[0]
    assert row["audio_used"] == "a:1 (and every track apart: .track<n>. transcripts)", row.to_dict()


def test_a_quiet_mix_of_cancelling_channels_and_wav_headers(made, tmp_path):
    """A quiet recording whose channels cancel (the mix at -97 dB, the channels at -49 dB) is
    taken from one channel; a WAV's track is read from its header, its cut noted."""
    from firescribe.steps.extract import probe_tracks, wav_header

    quiet = tmp_path / "quiet.wav"
    sox(str(made["src"] / "speech.wav"), "-c", "2", str(quiet), "remix", "1", "1i", "vol", "0.05")
    info = extract_audio(quiet, tmp_path / "q.wav", tmp_path / "q.json")
    assert info.channel in (0, 1) and "channels cancel" in info.warnings[0], info.warnings
    assert [t.label() for t in probe_tracks(str(made["media"] / "stereo.wav"))] == ["a:0 und pcm_s16le 2ch"]
    cut = wav_header(str(made["media"] / "cut.wav"))
    assert cut["declared"] == pytest.approx(media.duration(made["media"] / "stereo.wav")) and cut["present"] < cut["declared"] - 2
    assert wav_header(str(made["media"] / "late_mkv.mkv")) is None
