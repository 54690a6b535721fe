"""A dataset of many short files (an ASR test set's shape) through the whole workflow, with
the real tiny.en: jobs per shard, not per file, each ASR job decoding many files' units in
length-sorted batches; with plan.pack_files, short files packed into whisper windows and
their words given back to each; a bad file fails alone; adding, removing or editing re-runs
only the shard concerned; a deleted transcript is written again."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from support import media
from support.corpora import copy_project
from support.workflow import planned_jobs, snakemake

from firescribe.text.accuracy import score, total

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg

N_FILES = 30
FILES_PER_SHARD = 8
# tiny.en on espeak-ng's voice: 7-10% WER file by file (BatchedInferencePipeline, one file a
# call); batching and packing may cost or gain a little; a lost or misplaced utterance costs
# >= 3 points
WER_MARGIN = 0.02


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("dataset")
    refs = media.dataset(root / "media", N_FILES, seed=3)
    (root / "media" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(40))
    spare = media.dataset(root / "spare", 1, seed=99)
    work = root / "run"
    work.mkdir()
    # the media given relative to the run's folder: a copy of both (copy_dataset) is finished too
    config = {"input": "../media", "language": "en", "shards": {"files": FILES_PER_SHARD}}
    first = snakemake(work, config=config)
    return {"root": root, "work": work, "results": work / "results", "refs": refs, "spare": spare, "spare_dir": root / "spare", "config": config, "log": first}


def copy_dataset(dataset, root) -> dict:
    """A copy of the finished dataset (media and run) for a test that changes it."""
    copy_project(dataset["root"] / "media", root / "media")
    work = copy_project(dataset["work"], root / "run")
    return {**dataset, "root": root, "work": work, "results": work / "results"}


@pytest.fixture(scope="module")
def packed(dataset, tmp_path_factory):
    """The same corpus with plan.pack_files: several files to a whisper window, planned on a
    copy of the finished run (the audio and the VAD are as they were)."""
    packed = copy_dataset(dataset, tmp_path_factory.mktemp("packed"))
    config = {**dataset["config"], "plan": {"pack_files": True}}
    counts = planned_jobs(snakemake(packed["work"], "-n", config=config))
    assert "extract" not in counts and "vad" not in counts and counts["plan"] == str(len(shards(dataset["results"]))), counts
    snakemake(packed["work"], config=config)
    return {**packed, "config": config}


def shards(results) -> dict[str, list[str]]:
    return {p.stem: list(json.loads(p.read_text())["samples"]) for p in (results / "work" / "plan").glob("*.json")}


def test_jobs_serve_shards_of_files_and_every_file_has_its_transcripts(dataset):
    res = dataset["results"]
    groups = shards(res)
    assert sorted(s for g in groups.values() for s in g) == sorted([n.removesuffix(".wav") for n in dataset["refs"]] + ["broken"])
    assert 2 <= len(groups) <= N_FILES // 3
    counts = planned_jobs(dataset["log"])
    for step in ("extract", "vad", "plan", "merge"):
        assert counts[step] == str(len(groups)), (step, counts)
    # ASR jobs are known once the plans are (checkpoints): one a shard here, each one model load
    asr_jobs = list((res / "benchmarks" / "asr").glob("*/*.tsv"))
    assert len(asr_jobs) == len(list((res / "work" / "asr").glob("*/*.json"))) == len(groups)
    for sample in (s for g in groups.values() for s in g):
        for ext in ("json", "txt", "srt", "vtt", "tsv"):
            assert (res / "transcripts" / f"{sample}.{ext}").exists(), (sample, ext)


@pytest.mark.parametrize("run", ["dataset", "packed"])
def test_each_file_gets_its_own_words(run, request):
    dataset = request.getfixturevalue(run)
    res = dataset["results"]
    plans = [json.loads(p.read_text()) for p in (res / "work" / "plan").glob("*.json")]
    members = [len(m) for plan in plans for m in plan["inputs"]]
    assert max(members) > 1 if run == "packed" else set(members) == {1}
    for sample, ref in dataset["refs"].items():
        doc = json.loads((res / "transcripts" / sample.replace(".wav", ".json")).read_text())
        assert doc["status"] == "ok", doc["reason"]
        assert score(ref, doc["text"]).error_rate < 0.5, (sample, ref, doc["text"])
        for w in (w for s in doc["segments"] for w in s["words"]):
            assert 0 <= w["start"] <= w["end"] <= doc["duration"] + 1e-3, (sample, w)


def test_accuracy_as_one_file_at_a_time(dataset, packed):
    """Batched across files, and packed, against faster-whisper's BatchedInferencePipeline
    one file a call (same model, compute type, beam, batch)."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    from firescribe.engines.backends.whisper import resolve_model

    model = WhisperModel(resolve_model("bundled:tiny.en"), device="cpu", compute_type="int8", cpu_threads=2, num_workers=1)
    pipeline = BatchedInferencePipeline(model)
    ours = {run["results"]: [] for run in (dataset, packed)}
    theirs = []
    for name, ref in dataset["refs"].items():
        for results, scores in ours.items():
            doc = json.loads((results / "transcripts" / name.replace(".wav", ".json")).read_text())
            scores.append(score(ref, doc["text"]))
        segments, _ = pipeline.transcribe(decode_audio(str(dataset["root"] / "media" / name)), language="en", batch_size=8, beam_size=5)
        theirs.append(score(ref, " ".join(s.text.strip() for s in segments)))
    batched, packed_wer = (total(scores).error_rate for scores in ours.values())
    theirs_wer = total(theirs).error_rate
    print(f"{N_FILES} short files: firescribe WER {batched:.3f} (packed {packed_wer:.3f}), one file a call {theirs_wer:.3f}")
    assert batched <= theirs_wer + WER_MARGIN and packed_wer <= theirs_wer + WER_MARGIN, (batched, packed_wer, theirs_wer)


def test_a_bad_file_fails_alone(dataset):
    table = pd.read_csv(dataset["results"] / "corpus.tsv", sep="\t", keep_default_na=False).set_index("sample")
    assert table.loc["broken", "status"] == "failed" and table.loc["broken", "reason"]
    companions = next(g for g in shards(dataset["results"]).values() if "broken" in g)
    assert len(companions) > 1
    assert set(table.loc[[s for s in companions if s != "broken"], "status"]) == {"ok"}


def test_report_shares_each_asr_job_among_its_files(dataset):
    from firescribe.steps.report import asr_seconds

    res = dataset["results"]
    jobs = sum(float(pd.read_csv(f, sep="\t")["s"].sum()) for f in (res / "benchmarks" / "asr").rglob("*.tsv"))
    per_file = asr_seconds(res / "benchmarks", [str(p) for p in (res / "work" / "plan").glob("*.json")])
    assert len(per_file) == N_FILES and abs(sum(per_file.values()) - jobs) < 1e-6 * max(jobs, 1)


def test_changing_subtitles_reruns_only_the_merges(dataset):
    counts = planned_jobs(snakemake(dataset["work"], "-n", config={**dataset["config"], "subtitles": {"cue_gap_s": 0.3}}))
    n = str(len(shards(dataset["results"])))
    assert counts == {"all": "1", "merge": n, "corpus": "1", "report": "1", "total": str(3 + int(n))}, counts


def test_a_deleted_transcript_is_written_again_by_its_shard_alone(dataset, tmp_path):
    dataset = copy_dataset(dataset, tmp_path)  # this changes it
    res = dataset["results"]
    victim = res / "transcripts" / "utt00004.srt"
    before = victim.read_bytes()
    victim.unlink()
    counts = planned_jobs(snakemake(dataset["work"], "-n", config=dataset["config"]))
    assert counts == {"all": "1", "merge": "1", "corpus": "1", "report": "1", "total": "4"}, counts
    snakemake(dataset["work"], config=dataset["config"])
    assert victim.read_bytes() == before


def test_adding_then_removing_a_file_reruns_only_its_shard(dataset, tmp_path):
    dataset = copy_dataset(dataset, tmp_path)  # this changes it
    res, work, config = dataset["results"], dataset["work"], dataset["config"]
    records = lambda: {p.name: p.stat().st_mtime_ns for p in (res / "work" / "merged").glob("*.tsv")}  # noqa: E731
    before_groups, before = shards(res), records()
    new = dataset["root"] / "media" / "utt00004b.wav"  # sorts in among the others
    shutil.copy(dataset["spare_dir"] / "utt00000.wav", new)

    counts = planned_jobs(snakemake(work, "-n", config=config))
    for step in ("extract", "vad", "plan", "merge"):
        assert int(counts[step]) <= 2, counts  # the shard it joins, or the two it splits
    snakemake(work, config=config)
    after_groups = shards(res)
    moved = {name for name, g in after_groups.items() if before_groups.get(name) != g}
    assert any("utt00004b" in after_groups[name] for name in moved) and len(moved) <= 2
    after = records()
    assert {n: t for n, t in after.items() if n.removesuffix(".tsv") not in moved} == {
        n: t for n, t in before.items() if n.removesuffix(".tsv") not in moved and n in after
    }
    assert (res / "transcripts" / "utt00004b.txt").read_text().strip()

    new.unlink()
    counts = planned_jobs(snakemake(work, "-n", config=config))
    for step in ("extract", "vad", "plan", "merge"):
        assert int(counts.get(step, 0)) <= 1, counts  # the shard it leaves
    snakemake(work, config=config)
    assert shards(res).keys() >= before_groups.keys() - moved
    assert "utt00004b" not in pd.read_csv(res / "corpus.tsv", sep="\t")["sample"].tolist()
