"""A corpus full of trouble: every input ends up in the corpus table with a status and a
reason; bad files do not stop or corrupt the others; nothing can inject commands or make
ffmpeg read other files."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest
from support import media
from support.workflow import file_units, snakemake

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    src = root / "src"
    src.mkdir()
    m = root / "media"
    (m / "a").mkdir(parents=True)
    (m / "b").mkdir()
    speech = src / "speech.wav"
    media.speech_track(media.SENTENCES[:3], [0.6, 0.8, 0.5], speech)
    expect: dict[str, tuple[str, str]] = {}  # sample -> (status, reason pattern)

    # good speech in awkward names and formats
    ffmpeg("-i", str(speech), "-c:a", "aac", str(m / "a" / "talk.mp4"))
    ffmpeg("-i", str(speech), "-c:a", "libopus", str(m / "b" / "talk.mkv"))
    expect["a__talk"] = expect["b__talk"] = ("ok", "")
    for name, sample in [("it's $HOME; rm -rf x.wav", "it_s_HOME_rm_-rf_x"), ("-leading dash.wav", "leading_dash"), ("会议 记录.wav", "会议_记录")]:
        sox(str(speech), str(m / name))
        expect[sample] = ("ok", "")
    sox(str(speech), "-b", "8", "-e", "unsigned-integer", str(m / "pcm8.wav"))
    sox(str(speech), "-b", "24", str(m / "pcm24.wav"))
    sox(str(speech), "-b", "32", "-e", "floating-point", str(m / "float32.wav"))
    sox(str(speech), "-c", "6", "-r", "48000", str(m / "six_channels.wav"))
    for s in ("pcm8", "pcm24", "float32", "six_channels"):
        expect[s] = ("ok", "")

    # broken and unusual media
    (m / "zero_bytes.mp4").write_bytes(b"")
    expect["zero_bytes"] = ("failed", "empty file")
    (m / "not_media.mp4").write_text("this is a text file, not a video\n" * 50)
    expect["not_media"] = ("failed", "not a readable media file")
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x64:d=3", "-c:v", "libx264", str(m / "video_only.mp4"))
    expect["video_only"] = ("failed", "no audio stream")
    full = src / "full.mp4"
    ffmpeg("-i", str(speech), "-c:a", "aac", str(full))  # moov (index) written at the end
    data = full.read_bytes()
    (m / "truncated_no_index.mp4").write_bytes(data[: len(data) // 2])
    expect["truncated_no_index"] = ("failed", "moov atom not found|invalid data")
    fast = src / "fast.mp4"
    ffmpeg("-i", str(speech), "-c:a", "aac", "-movflags", "+faststart", str(fast))  # index first
    data = fast.read_bytes()
    # cut inside a compressed frame (the decoder reports an error), and exactly between two
    # frames (no decoder error at all: only the declared duration tells)
    frames = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pos", "-of", "csv=p=0", str(fast)],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    offsets = sorted(int(line.strip(",")) for line in frames)  # byte offset of each AAC frame
    cut = next(o for o in offsets if o >= 0.6 * len(data))
    inside = next(o for o in offsets if o > cut) - 1  # one byte short of the next frame: inside one
    (m / "truncated_partly.mp4").write_bytes(data[:inside])
    (m / "truncated_at_frame.mp4").write_bytes(data[:cut])
    expect["truncated_partly"] = expect["truncated_at_frame"] = ("ok", "")
    sox("-n", "-r", "16000", "-c", "1", "-b", "16", str(m / "silence.wav"), "trim", "0", "20")
    expect["silence"] = ("empty", "no speech")
    sox("-n", "-r", "16000", "-c", "1", "-b", "16", str(m / "music.wav"), "synth", "20", "sine", "220", "sine", "277", "sine", "330", "tremolo", "2", "60", "gain", "-12")
    expect["music"] = ("empty", "no speech")
    # 3+ minutes of speech whose pauses never exceed 0.1 s: must still be cut into units under the limit
    media.speech_track(media.SENTENCES * 3, [0.1] * 60, m / "nonstop.wav")
    expect["nonstop"] = ("ok", "")
    sox("-n", "-r", "16000", "-c", "1", "-b", "16", str(m / "short.wav"), "trim", "0", "0.3")
    expect["short"] = ("empty", "no speech")
    # safety: playlists and concat lists that point at other local files are refused
    (m / "playlist.mp4").write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{speech}\n#EXT-X-ENDLIST\n")
    expect["playlist"] = ("failed", "not allowed|refused|invalid data")
    (m / "concat.mkv").write_text(f"ffconcat version 1.0\nfile '{speech}'\n")
    expect["concat"] = ("failed", "not allowed|refused|invalid data")

    work = root / "run"
    work.mkdir()
    config = {"input": str(m)}
    proc = snakemake(work, config=config)
    return {"root": root, "work": work, "res": work / "results", "expect": expect, "proc": proc, "config": config}


def test_every_input_has_a_row_with_status_and_reason(corpus):
    table = pd.read_csv(corpus["res"] / "corpus.tsv", sep="\t", keep_default_na=False).set_index("sample")
    assert sorted(table.index) == sorted(corpus["expect"])
    for sample, (status, reason) in corpus["expect"].items():
        row = table.loc[sample]
        assert row["status"] == status, (sample, row.to_dict())
        if reason:
            assert pd.Series([row["reason"]]).str.contains(reason, case=False).all(), (sample, row["reason"])
        else:
            assert row["reason"] == ""


def test_good_files_are_transcribed_whatever_the_name_or_format(corpus):
    for sample, (status, _) in corpus["expect"].items():
        if status != "ok":
            continue
        text = (corpus["res"] / "transcripts" / f"{sample}.txt").read_text().lower()
        assert "fox" in text or "lazy dog" in text or "stella" in text, (sample, text)


def test_nonstop_speech_is_split_into_units_under_the_limit(corpus):
    units = file_units(corpus["res"], "nonstop")
    doc = json.loads((corpus["res"] / "transcripts" / "nonstop.json").read_text())
    assert doc["duration"] > 180
    assert len(units) >= 7 and all(sum(b - a for a, b in unit) <= 30.0 for unit in units)
    assert doc["speech_seconds"] > 0.9 * doc["duration"]
    assert len(doc["text"].split()) > 400  # ~650 words spoken


@pytest.mark.parametrize("sample", ["truncated_partly", "truncated_at_frame"])
def test_partly_decodable_media_keeps_what_decodes_with_a_warning(corpus, sample):
    doc = json.loads((corpus["res"] / "transcripts" / f"{sample}.json").read_text())
    assert doc["warnings"] and "decoded partly" in doc["warnings"][0], doc["warnings"]
    assert 0 < doc["duration"] < 13


def test_failed_and_empty_inputs_give_valid_empty_outputs(corpus):
    import pysubs2

    for sample, (status, _) in corpus["expect"].items():
        if status == "ok":
            continue
        base = corpus["res"] / "transcripts" / sample
        doc = json.loads(base.with_suffix(".json").read_text())
        assert doc["status"] == status and doc["segments"] == [] and doc["text"] == ""
        assert base.with_suffix(".txt").read_text() == ""
        assert len(pysubs2.SSAFile.from_string(base.with_suffix(".vtt").read_text() or "WEBVTT\n", format_="vtt")) == 0


def test_no_command_was_injected(corpus):
    # a name like "it's $HOME; rm -rf x.wav" went through untouched; nothing was created
    assert not (corpus["work"] / "x").exists()
    assert (corpus["res"] / "transcripts" / "it_s_HOME_rm_-rf_x.txt").exists()


def test_strict_mode_fails_the_run_but_keeps_the_table(corpus):
    config = dict(corpus["config"], strict=True)
    proc = snakemake(corpus["work"], config=config, check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "zero_bytes.mp4: empty file" in out and "video_only.mp4: no audio stream" in out
    assert (corpus["res"] / "corpus.tsv").exists() and "Traceback" not in out  # an expected outcome
