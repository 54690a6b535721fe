"""Pause-free speech (a fast talker, a news read) through the whole workflow: no words lost.

No pause reaches the VAD's 300 ms, so the VAD finds one long segment and the plan must cut it
into units itself. Cut blindly (as silero's 30 s limit did), a unit starts mid-word and
tiny.en can decode 30 s of it to a word or two. The reference is faster-whisper's own
BatchedInferencePipeline on the same audio (same model, compute type, beam, batch, threads).
"""

from __future__ import annotations

import json

import pytest
from support import media
from support.workflow import file_units, snakemake, vad_segments, wav_of

from firescribe.engines.backends.whisper import resolve_model
from firescribe.plumbing.pcm import open_pcm, to_float
from firescribe.text.accuracy import score

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg

# the bound: our WER at most 2 points above the peer's on the same audio
WER_MARGIN = 0.02
# no stretch of reference speech this long may go without an output word
MAX_SILENT_STRETCH_S = 10.0


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("continuous")
    (root / "media").mkdir()
    sentences, pauses = media.script(3, 190, media.PAUSE_FREE)
    utts = media.speech_track(sentences, pauses, root / "speech.wav")
    media.to_mp4_aac(root / "speech.wav", root / "media" / "news.mp4")
    work = root / "run"
    work.mkdir()
    snakemake(work, config={"input": root / "media"})
    return {"results": work / "results", "utts": utts}


def peer_text(wav) -> str:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    model = WhisperModel(resolve_model("bundled:tiny.en"), device="cpu", compute_type="int8", cpu_threads=2, num_workers=1)
    segments, _ = BatchedInferencePipeline(model).transcribe(to_float(open_pcm(wav)), language="en", batch_size=8, beam_size=5)
    return " ".join(s.text.strip() for s in segments)


def test_media_is_pause_free_and_one_vad_segment(run):
    utts = run["utts"]
    assert utts[-1].end >= 180
    assert max(b.start - a.end for a, b in zip(utts, utts[1:])) < 0.15
    vad = vad_segments(run["results"], "news")
    assert len(vad) <= 3 and len(file_units(run["results"], "news")) >= 7  # the plan, not the VAD, made the cuts


def test_wer_within_two_points_of_batched_pipeline(run):
    reference = " ".join(u.text for u in run["utts"])
    ours = score(reference, (run["results"] / "transcripts" / "news.txt").read_text()).error_rate
    theirs = score(reference, peer_text(wav_of(run["results"], "news"))).error_rate
    print(f"pause-free speech: firescribe WER {ours:.3f}, BatchedInferencePipeline {theirs:.3f}")
    assert ours <= theirs + WER_MARGIN, (ours, theirs)


def test_no_long_stretch_of_speech_without_words(run):
    doc = json.loads((run["results"] / "transcripts" / "news.json").read_text())
    mids = sorted((w["start"] + w["end"]) / 2 for s in doc["segments"] for w in s["words"])
    edges = [run["utts"][0].start, *mids, run["utts"][-1].end]
    gaps = [(a, b) for a, b in zip(edges, edges[1:]) if b - a > MAX_SILENT_STRETCH_S]
    assert not gaps, gaps
