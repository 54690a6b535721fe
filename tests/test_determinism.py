"""Same input, same config, same bytes (docs/usage.md#determinism), also where the guard
re-decodes with faster-whisper's temperature fallback, which samples: the workflow run twice
from scratch, and once more with another --cores (each ASR job then runs on another number
of threads), gives the same transcripts, corpus table and report data, byte for byte."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support import media
from support.workflow import snakemake

pytestmark = [pytest.mark.slow, pytest.mark.media_tools]  # workflow runs; makes media with espeak-ng, sox, ffmpeg

# the report's figures of the run itself (job wall times): not the same twice
RUN_MEASURES = {"results/report/rtf.png", "results/report/stages.png"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Media on which tiny.en's guard re-decode samples (measured: each falls back to
    temperatures above 0): a Mandarin chant over plucked chords and a looping prompt; and an
    English "song" over the chords (on which it did not trip). Three runs: two with --cores 2, one with --cores 1."""
    root = tmp_path_factory.mktemp("determinism")
    src, m = root / "src", root / "media"
    src.mkdir()
    m.mkdir()
    music = media.music(src / "music.wav", 14)
    chant = media.speak("啦啦啦啦，我爱你，啦啦啦，宝贝宝贝，啦啦啦", src / "chant.wav", voice="cmn", speed=90, pitch=80)
    song = media.speak("la la la la, oh baby baby, la la la la, oh yeah yeah, na na na na na", src / "song.wav", speed=90, pitch=80)
    media.to_mp4_aac(media.over_music(chant, music, src / "chant_music.wav", 0.7, 12), m / "chant.mp4")
    media.to_mp4_aac(media.over_music(song, music, src / "song_music.wav", 0.7, 12), m / "song.mp4")
    media.speak(" ".join(["Thank you."] * 16), src / "loop.wav", speed=150)
    media.to_mkv_opus_48k_stereo(src / "loop.wav", m / "loop.mkv")
    config = {"input": str(m), "asr": {"threads": 2}}
    out = {}
    for name, cores in (("first", "2"), ("second", "2"), ("one_core", "1")):
        work = root / name
        work.mkdir()
        out[name] = (work, snakemake(work, "--cores", cores, config=config))
    return out


def without_rtf(html: bytes) -> bytes:
    """The report's file table without its RTF column (the run's speed), the rest as it is."""
    text = html.decode()
    head, table, tail = re.split(r"(<table.*?</table>)", text, maxsplit=1, flags=re.S)
    rows = re.split(r"(<tr.*?</tr>)", table, flags=re.S)
    col = re.findall(r"<th>(.*?)</th>", table).index("rtf")
    for i, row in enumerate(rows):
        if row.startswith("<tr"):
            cells = re.split(r"(?=<t[dh][ >])", row)  # [<tr>, cell, cell, ...]
            rows[i] = "".join(cells[: col + 1] + cells[col + 2 :])
    return (head + "".join(rows) + tail).encode()


def outputs(work: Path) -> dict[str, bytes]:
    """Every file a user reads: transcripts, the corpus table, the report's data."""
    files = [*work.glob("results/transcripts/*"), work / "results/corpus.tsv", work / "results/corpus.parquet", *work.glob("results/report/*")]
    out = {str(p.relative_to(work)): p.read_bytes() for p in files if str(p.relative_to(work)) not in RUN_MEASURES}
    out["results/report/files.html"] = without_rtf(out["results/report/files.html"])
    return out


def test_the_guard_samples_on_this_media(runs):
    """The case this is about: units re-decoded with sampling, which the JSON says, seed and all."""
    work, _ = runs["first"]
    sampled = [g["redecode"] for p in (work / "results/transcripts").glob("*.json") for g in json.loads(p.read_text())["guarded_units"] if g["redecode"]["sampled"]]
    assert len(sampled) >= 2, sampled
    for how in sampled:
        assert how["temperatures"] and all(0 < t <= 1 for t in how["temperatures"]) and 0 <= how["seed"] < 2**32


@pytest.mark.parametrize("other", ["second", "one_core"])
def test_same_bytes(runs, other):
    first, again = outputs(runs["first"][0]), outputs(runs[other][0])
    assert sorted(first) == sorted(again)
    assert len([p for p in first if p.startswith("results/transcripts/")]) == 3 * 5
    differ = [p for p in first if first[p] != again[p]]
    assert not differ, differ
