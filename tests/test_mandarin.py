"""Real Mandarin through the whole workflow: the four clips of ../shared/data/zh_fireredasr
with the multilingual whisper model bundled:base, scored against their human references.

The yardstick is faster-whisper's own BatchedInferencePipeline (its VAD, beam 5, CPU int8)
on the same clips and model: CER 0.191 (17 errors in 89 characters; 0.180 with the
Traditional characters it writes made Simplified). One character is 1.1 points here, and
the pipeline itself moves by more than that on irrelevant changes of its input: with the
first 60, 80 or 100 ms of each clip left out it scores 0.157, 0.225 and 0.213 (the meeting
clip's words change), so the workflow (whose VAD cuts the clips a little differently) may
differ from it by MAX_CER_GAP; a word lost or carried into another file costs more.
"""

from __future__ import annotations

import json
import re
import shutil

import opencc
import pandas as pd
import pysubs2
import pytest
from support import zh_clips
from support.workflow import planned_jobs, snakemake

from firescribe.engines.backends.whisper import BUNDLED_BASE, resolve_model
from firescribe.settings import default_settings
from firescribe.text.accuracy import score, total
from firescribe.text.cues import CueParams

pytestmark = [
    pytest.mark.slow,
    pytest.mark.media_tools,  # the workflow extracts with ffmpeg
    pytest.mark.skipif(not zh_clips.available(), reason=zh_clips.SKIP_REASON),
]

MAX_CER_GAP = 0.04  # above the pipeline's own spread (see above); 3.5 characters of 89
# what faster-whisper's own pipeline scores: 0.191 on an AVX2 EPYC (2026-12-02), 0.292 on an
# AVX-512 EPYC (2026-12-04, faster-whisper 1.2.1, CTranslate2 4.8.5): int8 kernels differ by
# CPU, and the far-field meeting clip decodes differently. A sanity range for the reference.
PIPELINE_CER = (0.15, 0.31)


def run(tmp_path_factory, name: str, language: str | None, **config) -> dict:
    work = tmp_path_factory.mktemp(name)
    sheet = zh_clips.sample_sheet(work, language)
    config = {"input": str(sheet), "whisper": {"model": BUNDLED_BASE}, **config}
    log = snakemake(work, config=config)
    results = work / "results"
    texts = {u: (results / "transcripts" / f"{u}.txt").read_text(encoding="utf-8").strip() for u in zh_clips.references()}
    return {"work": work, "results": results, "config": config, "texts": texts, "log": log}


def cer(texts: dict[str, str]) -> float:
    refs = zh_clips.references()
    return total([score(refs[u], texts[u]) for u in refs]).error_rate


@pytest.fixture(scope="module")
def pipeline() -> dict[str, str]:
    return zh_clips.faster_whisper_pipeline(resolve_model(BUNDLED_BASE), "zh")


@pytest.fixture(scope="module")
def zh(tmp_path_factory):
    """language zh for every file (the sample sheet's column)."""
    return run(tmp_path_factory, "zh", "zh")


@pytest.fixture(scope="module")
def auto(tmp_path_factory):
    """language null: whisper detects it."""
    return run(tmp_path_factory, "auto", None)


@pytest.fixture(scope="module")
def silero_zh(tmp_path_factory):
    """language zh with silero-vad: the VAD vad.model auto picks where whisper detects it."""
    return run(tmp_path_factory, "silero", "zh", vad={"model": "silero"})


def test_cer_is_faster_whispers(zh, pipeline):
    ours, theirs = cer(zh["texts"]), cer(pipeline)
    print(f"CER bundled:base: workflow {ours:.3f}, BatchedInferencePipeline {theirs:.3f}")
    assert PIPELINE_CER[0] <= theirs <= PIPELINE_CER[1], pipeline
    assert ours <= theirs + MAX_CER_GAP, (zh["texts"], pipeline)


MAX_DEFAULT_CER = 0.185  # the default config on these clips (FireRedVAD: 0.180; silero-vad: 0.213)


def test_the_default_vad_for_mandarin_is_fireredvad(zh, auto):
    """vad.model auto: the sample sheet says zh, so FireRedVAD finds the speech (silero-vad
    missed most of the first seconds of the far-field meeting clip); with the language left
    to whisper, silero-vad (the VAD runs before whisper detects it)."""
    params = json.loads(next((zh["results"] / "transcripts").glob("*.json")).read_text())["params"]
    assert params["vad"]["model"] == "fireredvad"
    assert cer(zh["texts"]) <= MAX_DEFAULT_CER, zh["texts"]
    params = json.loads(next((auto["results"] / "transcripts").glob("*.json")).read_text())["params"]
    assert "model" not in params["vad"]  # silero-vad's options alone


def test_the_language_is_detected_as_chinese(auto, silero_zh):
    logs = "".join(p.read_text() for p in (auto["results"] / "logs" / "asr").rglob("*.log"))
    detected = re.findall(r"Detected language '(\w+)'", logs)
    assert detected and set(detected) == {"zh"}, logs[-2000:]
    # and decoded as Chinese: the text of a run told the language (with the same VAD)
    assert auto["texts"] == silero_zh["texts"]


def test_the_corpus_table_reports_cer(zh):
    table = pd.read_csv(zh["results"] / "corpus.tsv", sep="\t")
    assert set(table["metric"]) == {"cer"} and set(table["status"]) == {"ok"}
    refs = zh_clips.references()
    for row in table.itertuples():
        assert row.ref_tokens == len(re.sub(r"\s", "", refs[row.sample]))
        assert row.error_rate == pytest.approx(score(refs[row.sample], zh["texts"][row.sample]).error_rate, abs=1e-4)


def test_the_guard_does_not_trip_on_real_speech(zh, auto):
    for r in (zh, auto):
        table = pd.read_csv(r["results"] / "corpus.tsv", sep="\t")
        assert (table["guarded_units"] == 0).all(), table
        for u in zh_clips.references():
            assert json.loads((r["results"] / "transcripts" / f"{u}.json").read_text())["guarded_units"] == []


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitle_lines_obey_the_cjk_limits(zh, fmt):
    p: CueParams = default_settings().subtitles
    cues = 0
    for u in zh_clips.references():
        subs = pysubs2.load(str(zh["results"] / "transcripts" / f"{u}.{fmt}"))
        for event in subs:
            lines = event.plaintext.split("\n")
            assert len(lines) <= p.max_lines, (u, lines)
            assert all(p.width(line, cjk=True) <= p.cjk_line_chars for line in lines), (u, lines)
            assert event.duration <= p.max_cue_s * 1000 + 1, (u, event)
            cues += 1
    assert cues >= 4


def test_simplified_script_reruns_only_the_merge(zh, tmp_path):
    """chinese.script on a finished run: only the merge (and what follows) runs again; the
    Traditional characters whisper wrote (換一首歌) become Simplified in every output."""
    work = tmp_path / "zh"
    shutil.copytree(zh["work"], work, symlinks=True)
    config = {**zh["config"], "chinese": {"script": "simplified"}}
    dry = snakemake(work, "-n", config=config)
    counts = planned_jobs(dry)
    assert counts == {"all": "1", "merge": "1", "corpus": "1", "report": "1", "total": "4"}, dry.stdout
    snakemake(work, config=config)
    results = work / "results"
    before = zh["texts"]
    after = {u: (results / "transcripts" / f"{u}.txt").read_text(encoding="utf-8").strip() for u in before}
    opencc_t2s = opencc.OpenCC("t2s").convert
    assert after == {u: opencc_t2s(t) for u, t in before.items()}
    assert cer(after) <= cer(before)
    for u in before:
        doc = json.loads((results / "transcripts" / f"{u}.json").read_text())
        assert doc["params"]["chinese"] == {"script": "simplified"}
        for seg in doc["segments"]:
            assert "".join(w["text"] for w in seg["words"]) == seg["text"]  # words follow their cue
        for fmt in ("srt", "vtt", "tsv", "json"):
            content = (results / "transcripts" / f"{u}.{fmt}").read_text(encoding="utf-8")
            assert opencc_t2s(content) == content, (u, fmt)


def test_numbers_rerun_only_the_merge_and_keep_text_without_numbers(zh, tmp_path):
    """chinese.numbers on a finished run of the real clips (which hold no spoken numbers):
    only the merge (and what follows) runs again, and every text is as it was."""
    work = tmp_path / "zh"
    shutil.copytree(zh["work"], work, symlinks=True)
    config = {**zh["config"], "chinese": {"numbers": True}}
    dry = snakemake(work, "-n", config=config)
    counts = planned_jobs(dry)
    assert counts == {"all": "1", "merge": "1", "corpus": "1", "report": "1", "total": "4"}, dry.stdout
    snakemake(work, config=config)
    results = work / "results"
    assert {u: (results / "transcripts" / f"{u}.txt").read_text(encoding="utf-8").strip() for u in zh["texts"]} == zh["texts"]
    doc = json.loads((results / "transcripts" / f"{next(iter(zh['texts']))}.json").read_text())
    assert doc["params"]["chinese"] == {"script": None, "numbers": True}


@pytest.mark.xfail(strict=True, reason="plan.pack_files: whisper reads each clip after the text of the one before it, which costs accuracy here")
def test_packed_files_are_as_accurate(tmp_path_factory, zh):
    """Why plan.pack_files is off by default: packed into one whisper window (1 s of silence
    apart, each file given its words back by where they end), the four clips scored CER 0.270
    against 0.213 one file an input (2026-12-02): the words stay in their files, but the model
    decodes each clip after the text of the one before, and 换一首歌 after 情况 becomes
    欢迎一首歌. Passes (and so fails, strict) once packing costs no accuracy here. Planned on
    a copy of the finished zh run: the audio and the VAD are not redone."""
    work = tmp_path_factory.mktemp("packed") / "zh"
    shutil.copytree(zh["work"], work, symlinks=True)
    config = {**zh["config"], "plan": {"pack_files": True}}
    snakemake(work, config=config)  # (no assertion on its jobs here: inside an xfail test it would pass unseen)
    texts = {u: (work / "results" / "transcripts" / f"{u}.txt").read_text(encoding="utf-8").strip() for u in zh["texts"]}
    assert cer(texts) <= cer(zh["texts"]) + MAX_CER_GAP, texts


def test_fireredvad_finds_the_speech_silero_vad_misses(zh, silero_zh, pipeline):
    """The default (FireRedVAD with its event model, chosen by vad.model auto) and silero-vad
    on the same clips: FireRedVAD is no worse than silero-vad or the pipeline, and its event
    model holds nothing back as music or singing."""
    print(f"CER bundled:base: FireRedVAD + events (default) {cer(zh['texts']):.3f}, silero-vad {cer(silero_zh['texts']):.3f}")
    assert cer(zh["texts"]) <= min(cer(silero_zh["texts"]), cer(pipeline)) + MAX_CER_GAP, zh["texts"]
    assert json.loads(next((zh["results"] / "transcripts").glob("*.json")).read_text())["params"]["vad"]["events"]
    table = pd.read_csv(zh["results"] / "corpus.tsv", sep="\t")
    assert (table["guarded_units"] == 0).all() and set(table["status"]) == {"ok"}, table
