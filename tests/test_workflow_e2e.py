"""The whole workflow through Snakemake, on synthesized speech in real containers.

Media: espeak-ng sentences separated by pauses of varied length, encoded as MP4/AAC
(44.1 kHz) and MKV/Opus (48 kHz stereo). Model: the real faster-whisper tiny.en.
"""

from __future__ import annotations

import json
import random
import re

import jiwer
import pysubs2
import pytest
from support import media
from support.corpora import copy_project
from support.workflow import planned_jobs, snakemake

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg

# tiny.en on espeak-ng's synthetic voice, speech-only units: we measured WER 0.07-0.09 on
# these two files with CTranslate2's GENERIC, AVX and AVX2 kernels (errors are on names and
# rare words, e.g. "brown fox" -> "roundfark"). 0.2 leaves room for decoder variation across
# CPUs while still failing on any timing, merge or ordering bug (a lost or duplicated unit
# costs >= 20% of the words).
MAX_WER = 0.2
CUE_TOLERANCE_S = 1.0


def normalise(text: str) -> str:
    text = re.sub(r"[^a-z0-9' ]+", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    media_dir = root / "media"
    (media_dir / "talks").mkdir(parents=True)
    rng = random.Random(7)
    truth = {}
    specs = [("lecture", media.to_mp4_aac, "talks/lecture.mp4", media.SENTENCES[:16]),
             ("interview", media.to_mkv_opus_48k_stereo, "interview.mkv", media.SENTENCES[4:20])]
    for sample, encode, rel, sentences in specs:
        pauses = [rng.choice([0.4, 0.7, 1.2, 2.0, 3.5]) for _ in sentences]
        wav = root / f"{sample}.wav"
        utts = media.speech_track(sentences, pauses, wav)
        encode(wav, media_dir / rel)
        truth[sample] = utts
    # sample ids: relative path without extension, folders joined by '__'
    truth = {"talks__lecture": truth["lecture"], "interview": truth["interview"]}
    work = root / "run"
    work.mkdir()
    # files of over 0.1 MB have jobs of their own: the long-file path (tests/test_dataset.py
    # has the many-short-files one)
    config = {"input": media_dir, "plan": {"chunk_minutes": 0.25}, "shards": {"megabytes": 0.1}}
    first = snakemake(work, config=config)
    return {"work": work, "results": work / "results", "truth": truth, "config": config, "log": first}


def test_transcripts_are_accurate(corpus):
    for sample, utts in corpus["truth"].items():
        hyp = (corpus["results"] / "transcripts" / f"{sample}.txt").read_text()
        ref = " ".join(u.text for u in utts)
        wer = jiwer.wer(normalise(ref), normalise(hyp))
        print(f"{sample}: {utts[-1].end:.0f} s, WER {wer:.3f}")
        assert wer < MAX_WER, (sample, wer, hyp)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitle_cues_match_sentence_times(corpus, fmt):
    """Every cue lies inside one spoken sentence, and every sentence begins and ends a cue.

    The model may cut a sentence in two (tiny.en sometimes puts a full stop mid-sentence,
    and the decoder's choice differs between CPUs), so a cue may end inside a sentence;
    what must never happen is a cue on the wrong timeline or a cue spanning a silence.
    """
    tol = CUE_TOLERANCE_S
    for sample, utts in corpus["truth"].items():
        subs = pysubs2.load(str(corpus["results"] / "transcripts" / f"{sample}.{fmt}"))
        cues = [(e.start / 1000, e.end / 1000) for e in subs if e.text.strip()]
        assert len(cues) >= len(utts) * 0.8, (sample, len(cues), len(utts))
        for start, end in cues:
            assert any(u.start - tol <= start and end <= u.end + tol for u in utts), (sample, start, end)
        for u in utts:
            assert min(abs(s - u.start) for s, _ in cues) <= tol, (sample, "start", u)
            assert min(abs(e - u.end) for _, e in cues) <= tol, (sample, "end", u)


def test_outputs_and_corpus_table(corpus):
    import pandas as pd

    res = corpus["results"]
    table = pd.read_csv(res / "corpus.tsv", sep="\t", keep_default_na=False)
    assert sorted(table["sample"]) == sorted(corpus["truth"])
    assert set(table["status"]) == {"ok"}
    parquet = pd.read_parquet(res / "corpus.parquet")
    assert list(parquet.columns) == list(table.columns)
    assert list(parquet["sample"]) == list(table["sample"])
    assert list(parquet["n_chars"]) == list(table["n_chars"])
    for sample, utts in corpus["truth"].items():
        doc = json.loads((res / "transcripts" / f"{sample}.json").read_text())
        assert doc["engine"]["backend"] == "whisper" and doc["engine"]["model_sha256"]
        assert abs(doc["duration"] - (utts[-1].end + 0.4)) < 4.0
        starts = [s["start"] for s in doc["segments"]]
        assert starts == sorted(starts)
        tsv = pd.read_csv(res / "transcripts" / f"{sample}.tsv", sep="\t")
        assert list(tsv.columns) == ["start", "end", "text"] and len(tsv) == len(doc["segments"])
        plan = json.loads((res / "work" / "plan" / f"{sample}.json").read_text())  # a shard of its own
        assert list(plan["samples"]) == [sample]
        assert len(plan["chunks"]) >= 2, "chunk_minutes=0.25 should give several ASR jobs"
        # whisper's units are speech only (pauses cut out); no word time falls in a cut pause
        units = plan["samples"][sample]["units"]
        assert any(len(unit) > 1 for unit in units)
        spans = [span for unit in units for span in unit]
        for w in (w for s in doc["segments"] for w in s["words"]):
            for t in (w["start"], w["end"]):
                assert any(a - 0.001 <= t <= b + 0.001 for a, b in spans), (sample, w)


def test_second_run_has_nothing_to_do(corpus):
    out = snakemake(corpus["work"], "-n", config=corpus["config"])
    assert "Nothing to be done" in out.stdout + out.stderr


def test_deleting_one_chunk_reruns_only_that_chunk_and_merge(corpus, tmp_path):
    work = copy_project(corpus["work"], tmp_path / "run")  # the module's finished corpus, copied: this changes it
    res = work / "results"
    sample = "interview"
    chunk_files = sorted((res / "work" / "asr" / sample).glob("*.json"))
    victim = chunk_files[1]
    others = {p: p.stat().st_mtime_ns for p in chunk_files if p != victim}
    other_sample = {p: p.stat().st_mtime_ns for p in (res / "work" / "asr" / "talks__lecture").glob("*.json")}
    before = (res / "transcripts" / f"{sample}.json").read_bytes()
    victim.unlink()

    dry = snakemake(work, "-n", config=corpus["config"])
    counts = planned_jobs(dry)
    assert counts == {"all": "1", "asr": "1", "merge": "1", "corpus": "1", "report": "1", "total": "5"}, dry.stdout

    snakemake(work, config=corpus["config"])
    assert victim.exists()
    assert {p: p.stat().st_mtime_ns for p in others} == others
    assert {p: p.stat().st_mtime_ns for p in other_sample} == other_sample
    assert (res / "transcripts" / f"{sample}.json").read_bytes() == before  # same result, deterministic


def test_changing_a_parameter_reruns_only_the_affected_steps(corpus):
    def planned(config):
        dry = snakemake(corpus["work"], "-n", config=config)
        return planned_jobs(dry)

    subtitles = dict(corpus["config"], subtitles={"cue_gap_s": 0.3})
    assert planned(subtitles) == {"all": "1", "merge": "2", "corpus": "1", "report": "1", "total": "5"}
    vad = dict(corpus["config"], vad={"threshold": 0.6})
    counts = planned(vad)
    assert "extract" not in counts and counts["vad"] == "2" and counts["plan"] == "2"
    assert planned(corpus["config"]) == {}  # and back: nothing to do
