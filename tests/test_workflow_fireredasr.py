"""The workflow with the fireredasr-aed backend on a random-weight checkpoint of the official format.

The text is meaningless (random weights); this checks the DAG, the engine used, unit
limits, timestamps on the media timeline and the output formats.
"""

from __future__ import annotations

import json

import pysubs2
import pytest
from support import media, official
from support.corpora import copy_project
from support.workflow import planned_jobs, snakemake

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg


def transcribe_talk(root, version: int, pauses: list[float], guard: bool = True, plan: dict | None = None, **fireredasr_aed) -> dict:
    """Synthesized speech as MP4, a random checkpoint of FireRedASR(2)-AED, the workflow."""
    model_dir = official.make_model_dir(root / "models" / f"FireRedASR{version}-AED-small", version=version)
    (root / "media").mkdir()
    wav = root / "talk.wav"
    utts = media.speech_track(media.SENTENCES[: len(pauses)], pauses, wav)
    media.to_mp4_aac(wav, root / "media" / "talk.mp4")
    work = root / "run"
    work.mkdir()
    config = {
        "input": str(root / "media"),
        "backend": "fireredasr-aed",
        "language": "zh",
        "fireredasr_aed": {"model_dir": str(model_dir), **fireredasr_aed},
        "plan": plan or {"max_unit_s": 8, "chunk_minutes": 0.2},
        "guard": {"enabled": guard},
    }
    snakemake(work, config=config)
    return {"results": work / "results", "utts": utts, "work": work, "config": config}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return transcribe_talk(tmp_path_factory.mktemp("firered"), 1, [0.6, 1.5, 0.8, 2.0, 0.5], decode_max_len=40, beam_size=3)


def test_engine_and_provenance(run):
    doc = json.loads((run["results"] / "transcripts" / "talk.json").read_text())
    assert doc["engine"]["backend"] == "fireredasr-aed"
    assert doc["engine"]["engine"] == "firescribe.fireredasr"
    assert len(doc["engine"]["model_sha256"]) == 64
    assert doc["params"]["plan"]["max_unit_s"] == 8
    assert doc["status"] == "ok" and doc["text"]
    assert doc["engine"]["word_times"] is False  # v1: no CTC head


def test_units_and_timestamps(run):
    res = run["results"]
    plan = json.loads((res / "work" / "plan" / "talk.json").read_text())
    assert all(len(unit) == 1 for unit in plan["samples"]["talk"]["units"])  # FireRedASR-AED: contiguous audio
    assert all(b - a <= 8 for [(a, b)] in plan["samples"]["talk"]["units"])
    assert len(plan["chunks"]) >= 2
    doc = json.loads((res / "transcripts" / "talk.json").read_text())
    speech_end = run["utts"][-1].end
    guarded = [[[g["start"], g["end"]]] for g in doc["guarded_units"]]
    for seg in doc["segments"]:
        # one cue per unit: its times are the unit's, on the media timeline; a unit the guard
        # re-decoded in two halves has a cue per half inside it
        unit = next(u for u in plan["samples"]["talk"]["units"] if u[0][0] <= seg["start"] and seg["end"] <= u[0][1])
        assert unit in guarded or [[seg["start"], seg["end"]]] == unit
        assert 0 <= seg["start"] < seg["end"] <= speech_end + 1.0
    srt = pysubs2.load(str(res / "transcripts" / "talk.srt"))
    assert len(srt) == len(doc["segments"])
    assert pysubs2.load(str(res / "transcripts" / "talk.vtt"))[0].start == round(doc["segments"][0]["start"] * 1000)


def test_guard_catches_the_random_models_loops(run):
    """The random checkpoint loops on every unit (the official code does the same on it): the
    guard re-decodes each unit in halves, cuts the loops left, and the JSON, the corpus table
    and the report list the units."""
    import pandas as pd

    from firescribe.text.guard import find_loop, tokens

    res = run["results"]
    doc = json.loads((res / "transcripts" / "talk.json").read_text())
    plan = json.loads((res / "work" / "plan" / "talk.json").read_text())
    assert len(doc["guarded_units"]) == len(plan["samples"]["talk"]["units"])
    for g in doc["guarded_units"]:
        assert "repetition" in g["tripped"] and g["actions"][0] == "redecoded"
        assert g["actions"][-1] == "cut_loops" or not g["tripped_after"]
    for seg in doc["segments"]:
        assert find_loop([t for t, _, _ in tokens(seg["text"])], 10) is None
    table = pd.read_csv(res / "corpus.tsv", sep="\t")
    assert list(table["guarded_units"]) == [len(plan["samples"]["talk"]["units"])]
    html = (res / "report" / "files.html").read_text()
    assert f"Guarded units: {len(plan['samples']['talk']['units'])}" in html and "repetition" in html


def test_punctuation_reruns_only_merge_and_equals_official(run, tmp_path):
    """punctuation.model_dir set on a finished run: only the merge (and what follows) reruns,
    not the ASR; each v1 segment's text is the official FireRedPunc's punctuation of the
    ASR text, batched as configured."""
    from support import punc_official

    if not punc_official.available():
        pytest.skip(punc_official.MISSING)
    model_dir = punc_official.make_punc_dir(tmp_path / "FireRedPunc")
    config = {**run["config"], "punctuation": {"model_dir": str(model_dir), "batch_size": 2}}
    work = copy_project(run["work"], tmp_path / "run")  # the module's finished run, copied: this changes it
    dry = snakemake(work, "-n", config=config)
    counts = planned_jobs(dry)
    assert counts == {"all": "1", "merge": "1", "corpus": "1", "report": "1", "total": "4"}, dry.stdout
    snakemake(work, config=config)
    res = work / "results"
    doc = json.loads((res / "transcripts" / "talk.json").read_text())
    asr = [s for path in sorted((res / "work" / "asr" / "talk").glob("*.json")) for u in json.loads(path.read_text())["units"] for s in u["segments"]]
    asr.sort(key=lambda s: (s["start"], s["end"]))
    official = punc_official.official_punc(model_dir)
    by_length = sorted(asr, key=lambda s: len(s["text"]))  # the merge batches segments of similar length
    for i in range(0, len(by_length), 2):
        batch = by_length[i : i + 2]
        for s, r in zip(batch, official.process([s["text"] for s in batch])):
            s["expected"] = r["punc_text"].strip()
    assert [s["text"] for s in doc["segments"]] == [s["expected"] for s in asr if s["expected"]]
    assert any(mark in doc["text"] for mark in "，。？！,.?!")
    assert doc["params"]["punctuation"]["model_dir"] == str(model_dir)


def cue_fits(cues, utts, tol: float = 1.0) -> list[bool]:
    return [any(u.start - tol <= a and b <= u.end + tol for u in utts) for a, b in cues]


CUE_PAUSES = [0.4, 1.2, 0.5, 2.0, 0.4, 0.8, 0.6, 1.5, 0.4, 0.7, 0.5, 1.0]


@pytest.fixture(scope="module")
def cue_talk(tmp_path_factory):
    """A talk of 12 sentences with cue-sized units (plan.cue_units unset: the default for v1)."""
    return transcribe_talk(tmp_path_factory.mktemp("cues"), 1, CUE_PAUSES, plan={"cue_units": None}, decode_max_len=20)


@pytest.mark.parametrize("cue_units", [None, False])
def test_v1_cues_follow_sentences(cue_talk, tmp_path, cue_units):
    """FireRedASR-AED v1 gives no word times, so a cue is a unit: with cue-sized units (the
    default for such a model) >= 90% of cues lie inside one spoken sentence and none is
    longer than max_cue_s; long units (cue_units: false) make cues that span sentences.
    The long units are planned on a copy of the finished cue-sized run: only the plan and
    what follows it run again (the audio and the VAD are as they were)."""
    pauses, out = CUE_PAUSES, cue_talk
    if cue_units is not None:
        work = copy_project(cue_talk["work"], tmp_path / "run")
        config = {**cue_talk["config"], "plan": {"cue_units": cue_units}}
        counts = planned_jobs(snakemake(work, "-n", config=config))
        assert "extract" not in counts and "vad" not in counts and counts["plan"] == "1" and counts["merge"] == "1", counts
        snakemake(work, config=config)
        out = {**cue_talk, "results": work / "results"}
    doc = json.loads((out["results"] / "transcripts" / "talk.json").read_text())
    cues = [(s["start"], s["end"]) for s in doc["segments"]]
    inside = cue_fits(cues, out["utts"])
    if cue_units is None:
        assert sum(inside) >= 0.9 * len(cues) and len(cues) >= len(pauses), (cues, out["utts"])
        assert all(b - a <= 7.0 + 1e-6 for a, b in cues)
    else:
        assert max(b - a for a, b in cues) > 7.0 and sum(inside) < 0.9 * len(cues)


def test_rerun_is_a_no_op(run):
    out = snakemake(run["work"], "-n", config=run["config"])
    assert "Nothing to be done" in out.stdout + out.stderr


def test_moving_to_other_gpus_reruns_nothing(run):
    """Placement (asr.device, gpus, gpu_mem_mb, gpu_share) is not a result-shaping param; nor
    is hotword_weight in a run without hotword lists."""
    placement = {"device": "auto", "gpus": [1, 2], "gpu_mem_mb": 12000, "gpu_share": 0.5}
    options = {**run["config"]["fireredasr_aed"], "hotword_weight": 3.0}
    out = snakemake(run["work"], "-n", config={**run["config"], "asr": placement, "fireredasr_aed": options})
    assert "Nothing to be done" in out.stdout + out.stderr


def test_fireredasr2_gives_word_times_and_confidences(tmp_path):
    """A FireRedASR2-AED checkpoint (CTC head): words carry CTC-aligned times inside their
    unit, in order, and confidences; cues are cut from them."""
    # the guard off: the random model's loops are the words whose alignment this checks
    res = transcribe_talk(tmp_path, 2, [0.8, 1.2, 0.5], guard=False, decode_max_len=30)["results"]
    doc = json.loads((res / "transcripts" / "talk.json").read_text())
    assert doc["engine"]["model_version"] == "FireRedASR2-AED" and doc["engine"]["word_times"] is True
    plan = json.loads((res / "work" / "plan" / "talk.json").read_text())
    words = [w for s in doc["segments"] for w in s["words"]]
    assert len(words) >= 5
    assert all(0.0 <= w["confidence"] <= 1.0 for w in words)
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    for w in words:
        assert w["start"] <= w["end"]
        assert any(a - 0.001 <= w["start"] and w["end"] <= b + 0.001 for [(a, b)] in plan["samples"]["talk"]["units"]), w
    for seg in doc["segments"]:  # cues are cut from the word times, not one per unit
        assert (seg["start"], seg["end"]) == (seg["words"][0]["start"], seg["words"][-1]["end"])


def test_onnxruntime_variant_is_prepared_once_and_matches_torch(run, tmp_path):
    """runtime: onnxruntime: the prepare_model step exports the ONNX graphs once for all ASR
    jobs, and the transcript equals the torch engine's (same checkpoint, same media)."""
    # the same media and checkpoint as the torch run (synthesized speech differs between
    # runs): a copy of the finished torch run, on which the audio and the VAD are not redone
    config = {**run["config"], "fireredasr_aed": {**run["config"]["fireredasr_aed"], "runtime": "onnxruntime"}}
    work = copy_project(run["work"], tmp_path / "run")
    counts = planned_jobs(snakemake(work, "-n", config=config))
    assert not {"extract", "vad"} & set(counts) and counts["plan"] == "1", counts
    snakemake(work, config=config)
    res = work / "results"
    prepared = res / "work" / "model" / "fireredasr-aed" / "onnxruntime-fp32"
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert manifest["variant"] == "onnxruntime-fp32" and set(manifest["files"]) == {"encoder.onnx", "cross.onnx", "decoder.onnx"}
    assert len(list((res / "benchmarks" / "prepare_model").glob("*.tsv"))) == 1
    plan = json.loads((res / "work" / "plan" / "talk.json").read_text())
    assert len(list((res / "work" / "asr" / "talk").glob("*.json"))) == len(plan["chunks"]) >= 2

    doc = json.loads((res / "transcripts" / "talk.json").read_text())
    torch_doc = json.loads((run["results"] / "transcripts" / "talk.json").read_text())
    assert doc["engine"]["runtime"] == "onnxruntime" and torch_doc["engine"]["runtime"] == "torch"
    assert [s["text"] for s in doc["segments"]] == [s["text"] for s in torch_doc["segments"]]
    assert doc["text"]


def test_hotwords_per_file_through_the_workflow(tmp_path):
    """A corpus list and a file's own list (sample sheet): the file's transcript holds its
    hotword (a weight that outweighs the random model's scores) and the other file's does
    not; the JSON records each list's checksum; editing one file's list re-runs only that
    file's ASR and merge; a bad list stops the run before any job, naming the file and line."""
    from firescribe.text.hotwords import checksum, load_hotwords

    model_dir = official.make_model_dir(tmp_path / "models" / "small")
    for name, sentences in (("a", media.SENTENCES[:2]), ("b", media.SENTENCES[2:4])):
        media.speech_track(sentences, [0.6, 0.8], tmp_path / f"{name}.wav")
    (tmp_path / "corpus.txt").write_text("丁七\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("三上 :6\n", encoding="utf-8")
    (tmp_path / "samples.tsv").write_text("sample\tpath\thotwords\na\ta.wav\ta.txt\nb\tb.wav\t\n", encoding="utf-8")
    work = tmp_path / "run"
    work.mkdir()
    config = {
        "input": str(tmp_path / "samples.tsv"),
        "hotwords": str(tmp_path / "corpus.txt"),
        "backend": "fireredasr-aed",
        "fireredasr_aed": {"model_dir": str(model_dir), "decode_max_len": 12},
        "guard": {"enabled": False},
    }
    snakemake(work, config=config)
    docs = {s: json.loads((work / "results" / "transcripts" / f"{s}.json").read_text()) for s in "ab"}
    assert "三上" in docs["a"]["text"] and "三上" not in docs["b"]["text"]
    lists = {"a": [tmp_path / "corpus.txt", tmp_path / "a.txt"], "b": [tmp_path / "corpus.txt"]}
    for s, doc in docs.items():
        assert doc["engine"]["hotwords"] == {"count": len(lists[s]), "sha256": checksum(load_hotwords(*lists[s])), "used": len(lists[s])}

    (tmp_path / "a.txt").write_text("三上 :6\n丈 :2\n", encoding="utf-8")
    dry = snakemake(work, "-n", config=config)
    counts = planned_jobs(dry)
    n_chunks = len(json.loads((work / "results" / "work" / "plan" / "a.json").read_text())["chunks"])
    assert counts == {"all": "1", "asr": str(n_chunks), "merge": "1", "corpus": "1", "report": "1", "total": str(4 + n_chunks)}, dry.stdout
    assert "output: results/work/asr/a/" in dry.stdout and "output: results/work/asr/b/" not in dry.stdout

    (tmp_path / "a.txt").write_text("三上 :x\n", encoding="utf-8")
    bad = snakemake(work, "-n", config=config, check=False)
    assert bad.returncode != 0 and f"hotword list '{tmp_path / 'a.txt'}' line 1: weight 'x' is not a number" in bad.stderr + bad.stdout
