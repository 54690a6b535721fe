"""Adding a file costs that file's work (firescribe.plumbing.store): a finished corpus of two files
and one file more is one file's extraction, VAD and decoding, though the shard regroups;
a changed media file or an option that shapes ASR is done again; the old shard's work
files are listed and removed by `snakemake orphans` / `snakemake prune`."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from support import media
from support.workflow import planned_jobs, shard_of, snakemake

from firescribe.plumbing.shards import _unit_hash

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg

FORMATS = ("json", "txt", "srt", "vtt", "tsv")


def first_of_shard(files_per_shard: int) -> str:
    """A sample id that sorts first and does not end its shard: it joins the old files'."""
    return next(name for name in (f"a{i}" for i in range(100)) if _unit_hash(name) >= 1 / files_per_shard)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("filestore")
    (root / "media").mkdir()
    for i, sentences in enumerate([media.SENTENCES[:2], media.SENTENCES[2:4], media.SENTENCES[4:5]]):
        wav = root / f"s{i}.wav"
        media.speech_track(sentences, [0.7, 0.5], wav)
        media.to_mp4_aac(wav, root / f"talk{i}.mp4")
    for i in (0, 1):
        shutil.copy2(root / f"talk{i}.mp4", root / "media" / f"talk{i}.mp4")
    work = root / "run"
    work.mkdir()
    config = {"input": str(root / "media"), "language": "en", "asr": {"threads": 1}}
    snakemake(work, config=config)
    return {"root": root, "work": work, "results": work / "results", "config": config}


def transcripts(results, sample):
    return {ext: (results / "transcripts" / f"{sample}.{ext}").read_bytes() for ext in FORMATS}


def log_of(results, step, shard) -> str:
    if step == "asr":
        return "".join(p.read_text() for p in sorted((results / "logs" / "asr" / shard).glob("*.log")))
    return (results / "logs" / step / f"{shard}.log").read_text()


def test_an_added_file_is_the_only_one_extracted_vad_and_decoded(corpus):
    root, work, results, config = corpus["root"], corpus["work"], corpus["results"], corpus["config"]
    old_shard = shard_of(results, "talk0")
    before = {s: transcripts(results, s) for s in ("talk0", "talk1")}
    new = first_of_shard(64)
    shutil.copy2(root / "talk2.mp4", root / "media" / f"{new}.mp4")
    snakemake(work, config=config)
    shard = shard_of(results, new)
    assert shard == shard_of(results, "talk0") == new != old_shard  # the shard regrouped
    extract = log_of(results, "extract", shard)
    assert re.search(r": talk0 \(ok, [\d.]+ s, stored\)", extract) and re.search(r": talk1 \(ok, [\d.]+ s, stored\)", extract)
    assert re.search(rf": {new} \(ok, [\d.]+ s\)", extract)
    assert "vad: 2 of 3 files stored, 1 to run" in log_of(results, "vad", shard)
    asr = log_of(results, "asr", shard)
    stored = re.findall(r"asr chunk \d+: (\d+) of (\d+) inputs stored, (\d+) to decode", asr)
    n_new = sum(1 for u in json.loads((results / "work" / "plan" / f"{shard}.json").read_text())["inputs"] if u[0][0] == new)
    assert sum(int(d) for _, _, d in stored) == n_new  # the new file's inputs only
    for s in ("talk0", "talk1"):
        assert transcripts(results, s) == before[s]

    # the old shard's work files: listed, then removed; the corpus stays complete
    listed = snakemake(work, "--cores", "1", "orphans", config=config).stdout
    assert f"results/work/audio/{old_shard}" in listed and f"results/work/vad/{old_shard}.tsv" in listed
    assert (results / "work" / "audio" / old_shard).is_dir()  # listing removes nothing
    snakemake(work, "--cores", "1", "prune", config=config)
    assert not (results / "work" / "audio" / old_shard).exists()
    assert not (results / "work" / "asr" / old_shard).exists()
    assert not (results / "logs" / "extract" / f"{old_shard}.log").exists()
    assert "no orphaned work files" in snakemake(work, "--cores", "1", "orphans", config=config).stdout
    assert planned_jobs(snakemake(work, "-n", config=config)) == {}  # nothing needed was removed


def test_a_changed_media_file_is_done_again(corpus):
    root, work, results, config = corpus["root"], corpus["work"], corpus["results"], corpus["config"]
    media.speech_track(media.SENTENCES[5:7], [0.6], root / "s3.wav")
    media.to_mp4_aac(root / "s3.wav", root / "media" / "talk1.mp4")  # new content, size and mtime
    snakemake(work, config=config)
    shard = shard_of(results, "talk1")
    extract = log_of(results, "extract", shard)
    assert re.search(r": talk1 \(ok, [\d.]+ s\)", extract) and re.search(r": talk0 \(ok, [\d.]+ s, stored\)", extract)
    assert "vad: 2 of 3 files stored, 1 to run" in log_of(results, "vad", shard)
    assert transcripts(results, "talk1")["txt"] != transcripts(results, "talk0")["txt"]


def test_an_option_that_shapes_asr_decodes_again(corpus):
    work, results, config = corpus["work"], corpus["results"], corpus["config"]
    snakemake(work, config={**config, "whisper": {"beam_size": 1}})
    shard = shard_of(results, "talk0")
    asr = log_of(results, "asr", shard)
    stored = re.findall(r"asr chunk \d+: (\d+) of (\d+) inputs stored", asr)
    assert stored and all(n == "0" for n, _ in stored)
