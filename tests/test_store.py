"""The per-file store (firescribe.plumbing.store): its keys, its atomic entries, and the extract, VAD
and ASR steps taking a file's stored results instead of doing its work again, with real
media and the bundled whisper tiny.en."""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import pytest
from support import media

from firescribe.plumbing.store import Store, entry_key, media_identity, workflow_store
from firescribe.settings import default_settings
from firescribe.steps import extract, vad
from firescribe.steps.asr import Decoder, transcribe_chunk
from firescribe.steps.extract import extract_shard, shard_audio
from firescribe.steps.plan import run_plan

pytestmark = pytest.mark.media_tools


def test_the_key_changes_with_each_thing_that_shapes_the_result_and_only_then():
    base = entry_key("vad", "digest", {"threshold": 0.5, "model": "silero-vad"})
    assert base == entry_key("vad", "digest", {"model": "silero-vad", "threshold": 0.5})  # order of a dict's keys
    assert base != entry_key("vad", "digest", {"threshold": 0.6, "model": "silero-vad"})
    assert base != entry_key("vad", "other", {"threshold": 0.5, "model": "silero-vad"})
    assert base != entry_key("asr", "digest", {"threshold": 0.5, "model": "silero-vad"})  # the stage
    assert len(base) == 64


def test_a_media_files_identity_is_its_path_size_and_mtime(tmp_path):
    f = tmp_path / "a.mp3"
    f.write_bytes(b"x" * 10)
    first = media_identity(str(f))
    assert media_identity(str(f)) == first
    os.utime(f, ns=(1, 1))
    assert media_identity(str(f)) != first
    assert media_identity(str(tmp_path / "missing.mp3")) == [str(tmp_path / "missing.mp3"), None, None]


def test_the_workflow_store_is_found_only_under_results_work(tmp_path):
    store = workflow_store(tmp_path / "results" / "work" / "vad" / "S.tsv", depth=2)
    assert store.root == tmp_path / "results" / "work" / "files"
    assert store.output == Path("vad/S.tsv")
    assert workflow_store(tmp_path / "somewhere" / "S.tsv", depth=2) is None  # a library call: nothing kept


def test_an_entry_is_renamed_into_place_so_a_failed_write_leaves_none(tmp_path, monkeypatch):
    store = Store(tmp_path)
    real = os.replace

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        store.put_json("vad", "ab" * 32, {"rows": []})
    monkeypatch.setattr(os, "replace", real)
    assert store.get_json("vad", "ab" * 32) is None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # no temporary file left


def test_jobs_that_write_the_same_key_at_once_leave_one_complete_entry(tmp_path):
    store = Store(tmp_path)
    entry = {"rows": [f"{i}\t{i + 1}" for i in range(20000)]}
    threads = [threading.Thread(target=store.put_json, args=("vad", "cd" * 32, entry)) for _ in range(8)]
    seen = []

    def read():
        for _ in range(200):
            got = store.get_json("vad", "cd" * 32)
            seen.append(got is None or got == entry)

    reader = threading.Thread(target=read)
    for t in [*threads, reader]:
        t.start()
    for t in [*threads, reader]:
        t.join()
    assert all(seen)  # never a half-written entry
    assert store.get_json("vad", "cd" * 32) == entry
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{'cd' * 32}.json"]


@pytest.fixture(scope="module")
def talks(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    files = {}
    for i, sentences in enumerate([media.SENTENCES[:2], media.SENTENCES[2:4], media.SENTENCES[4:5]]):
        wav = root / f"s{i}.wav"
        media.speech_track(sentences, [0.7, 0.5], wav)
        files[f"talk{i}"] = str(media.to_mp4_aac(wav, root / f"talk{i}.mp4"))
    return root, files


def test_extraction_of_a_stored_file_is_a_link_not_a_decode(talks, monkeypatch):
    root, files = talks
    work = root / "x" / "results" / "work"
    old = {s: files[s] for s in ("talk0", "talk1")}
    extract_shard(old, work / "audio" / "talk0")
    decoded = []
    real = extract.extract_audio
    monkeypatch.setattr(extract, "extract_audio", lambda src, *a, **k: decoded.append(src) or real(src, *a, **k))
    extract_shard(files, work / "audio" / "new")  # the three files, regrouped
    assert decoded == [files["talk2"]]
    for s in old:
        a, b = shard_audio(work / "audio" / "talk0", s), shard_audio(work / "audio" / "new", s)
        assert Path(a[0]).read_bytes() == Path(b[0]).read_bytes() and Path(a[1]).read_bytes() == Path(b[1]).read_bytes()
        assert os.stat(a[0]).st_ino == os.stat(b[0]).st_ino  # a hardlink: no copy
    os.utime(files["talk0"])  # a changed media file (new mtime) is extracted again
    extract_shard(files, work / "audio" / "again")
    assert decoded[1:] == [files["talk0"]]
    monkeypatch.setattr(extract, "extract_audio", real)


def test_vad_runs_on_new_files_only_and_writes_what_a_full_run_writes(talks, monkeypatch):
    root, files = talks
    work = root / "v" / "results" / "work"
    extract_shard(files, work / "audio" / "all", store=None)
    wavs = {s: shard_audio(work / "audio" / "all", s)[0] for s in files}
    params = default_settings().vad_params()
    vad.run_job({s: wavs[s] for s in ("talk0", "talk1")}, str(work / "vad" / "old.tsv"), params, 1)
    ran = []
    real = vad.detect_shard
    monkeypatch.setattr(vad, "detect_shard", lambda name, w, *a: ran.append(list(w)) or real(name, w, *a))
    vad.run_job(wavs, str(work / "vad" / "new.tsv"), params, 1)
    assert ran == [["talk2"]]
    vad.run_job(wavs, str(root / "plain.tsv"), params, 1)  # outside results/work: no store
    assert ran[1:] == [list(wavs)]
    assert (work / "vad" / "new.tsv").read_bytes() == (root / "plain.tsv").read_bytes()
    vad.run_job(wavs, str(work / "vad" / "other.tsv"), {**params, "threshold": params["threshold"] + 0.1}, 1)
    assert ran[2:] == [list(wavs)]  # other VAD params: every file again


def test_asr_decodes_new_inputs_only_and_loads_no_model_when_all_are_stored(talks):
    from support.settings import whisper_options

    from firescribe.engines.backends.whisper import WhisperBackend

    root, files = talks
    work = root / "a" / "results" / "work"
    extract_shard(files, work / "audio" / "all", store=None)
    wavs = {s: shard_audio(work / "audio" / "all", s)[0] for s in files}
    vad.run_job(wavs, str(root / "all.tsv"), default_settings().vad_params(), 1)
    settings = default_settings()
    params = settings.plan
    plan_all = run_plan(wavs, str(root / "all.tsv"), str(root / "plan_all.json"), params, True)
    old = {s: wavs[s] for s in ("talk0", "talk1")}
    plan_old = run_plan(old, str(root / "all.tsv"), str(root / "plan_old.json"), params, True)
    asr = settings.asr
    loads, decoded = [], []

    class Counting(WhisperBackend):
        def transcribe(self, batch, language):
            decoded.append(len(batch))
            return super().transcribe(batch, language)

    def decoder():
        def load():
            loads.append(1)
            return Counting(asr.options, threads=2), None, 0

        return Decoder(load, identity={"asr": asr.params(), "hotwords": []})

    model = {"backend": "whisper", "model": "tiny.en", "model_sha256": "x", "word_times": True}
    chunk = lambda d, plan, out: transcribe_chunk(d, old if plan is plan_old else wavs, plan, 0, "en", asr.batch_seconds, asr.guard, model, Store(work / "files"))  # noqa: E731
    first = chunk(decoder(), plan_old, None)
    n_old = sum(decoded)
    again = chunk(decoder(), plan_old, None)
    assert again == first and len(loads) == 1  # all stored: no model loaded
    grown = chunk(decoder(), plan_all, None)
    assert sum(decoded) - n_old == len(plan_all["samples"]["talk2"]["units"])  # the new file's units only
    plain = transcribe_chunk(WhisperBackend(whisper_options(), threads=2), wavs, plan_all, 0, "en", asr.batch_seconds, asr.guard, model)
    # as a run without the store, but for the word confidences of inputs batched otherwise:
    # whisper's differ in the third decimal alone and batched (docs/usage.md)
    def words(doc, confidence):
        return [(u["sample"], u["spans"], [(w["start"], w["end"], w["text"], w["confidence"] if confidence else None) for s in u["segments"] for w in s["words"]]) for u in doc["units"]]

    assert words(grown, False) == words(plain, False)
    assert max(abs(a[2][i][3] - b[2][i][3]) for a, b in zip(words(grown, True), words(plain, True)) for i in range(len(a[2]))) < 0.05
    other = dict(asr.params(), options={**asr.params()["options"], "beam_size": 1})
    d = decoder()
    d.identity = {"asr": other, "hotwords": []}
    before = sum(decoded)
    chunk(d, plan_old, None)
    assert sum(decoded) - before == n_old  # an option that shapes ASR: decoded again


def test_orphans_are_old_shards_outputs_stale_chunks_and_entries_no_output_uses(tmp_path, capsys):
    from firescribe.steps.prune import orphans, prune

    results = tmp_path / "results"
    work = results / "work"
    for shard in ("old", "new.v2"):  # a shard named after a sample id with a dot
        (work / "audio" / shard).mkdir(parents=True)
        (work / "audio" / shard / "x.wav").write_bytes(b"w")
        for path in (f"vad/{shard}.tsv", f"merged/{shard}.tsv", f"asr/{shard}/0000.json", f"asr/{shard}/0001.json"):
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text("x")
        (results / "logs" / "extract").mkdir(parents=True, exist_ok=True)
        (results / "logs" / "extract" / f"{shard}.log").write_text("x")
    (work / "plan").mkdir()
    (work / "plan" / "new.v2.json").write_text('{"chunks": [[0]]}')  # one chunk now: 0001 is stale
    store = Store(work / "files", output="vad/new.v2.tsv")
    store.put_json("vad", "aa" * 32, {})
    store.use("vad", "aa" * 32)
    store.remember()
    Store(work / "files", output="vad/old.tsv").remember()
    store.put_json("vad", "bb" * 32, {})  # named by no output
    found = orphans(results, {"new.v2": ["new.v2"]})
    rel = {str(p.relative_to(results)) for p in found}
    assert rel == {
        "work/audio/old", "work/vad/old.tsv", "work/merged/old.tsv", "work/asr/old", "logs/extract/old.log",
        "work/asr/new.v2/0001.json", "work/files/refs/vad/old.tsv.keys", f"work/files/vad/bb/{'bb' * 32}.json",
    }
    assert prune(results, {"new.v2": ["new.v2"]}, delete=False) == found and all(p.exists() for p in found)
    prune(results, {"new.v2": ["new.v2"]}, delete=True)
    assert not any(p.exists() for p in found)
    assert orphans(results, {"new.v2": ["new.v2"]}) == []
    assert store.get_json("vad", "aa" * 32) == {}  # what a current output uses stays
    assert "8 orphaned" in capsys.readouterr().out


def test_fireredasr_reuses_an_input_only_with_the_same_batch_and_gives_what_a_run_from_scratch_gives(talks):
    """FireRedASR-AED's decode length limit is its batch's longest input: its results are
    reused only for the same batch, so a grown corpus equals one decoded from scratch."""
    from support import official
    from support.settings import firered_options

    from firescribe.engines.backends.fireredasr import FireRedAedBackend

    root, files = talks
    work = root / "f" / "results" / "work"
    extract_shard(files, work / "audio" / "all", store=None)
    wavs = {s: shard_audio(work / "audio" / "all", s)[0] for s in files}
    vad.run_job(wavs, str(root / "f.tsv"), default_settings().vad_params(), 1)
    settings = default_settings(backend="fireredasr-aed")
    options = firered_options(official.make_model_dir(root / "model"))
    params = settings.plan.for_model(False)
    old = {s: wavs[s] for s in ("talk0", "talk1")}
    plan_old = run_plan(old, str(root / "f.tsv"), str(root / "fplan_old.json"), params, False)
    plan_all = run_plan(wavs, str(root / "f.tsv"), str(root / "fplan_all.json"), params, False)
    # the guard off: its re-decodes would count as decodes here
    asr = dataclasses.replace(settings.asr, options=options, guard=dataclasses.replace(settings.asr.guard, enabled=False))
    decoded = []

    class Counting(FireRedAedBackend):
        def transcribe(self, batch, language):
            decoded.append(len(batch))
            return super().transcribe(batch, language)

    def decoder():
        return Decoder(lambda: (Counting(options, threads=2), None, 0), identity={"asr": asr.params(), "hotwords": []})

    model = {"backend": "fireredasr-aed", "model": "random", "model_sha256": "x", "word_times": False}
    for batch_s, regrouped in ((1.0, False), (120.0, True)):  # each input its own batch; all in one
        store = Store(root / "f" / f"store{batch_s}")
        chunk = lambda plan, w: transcribe_chunk(decoder(), w, plan, 0, "zh", batch_s, asr.guard, model, store)  # noqa: E731
        chunk(plan_old, old)
        n_old, n_new = sum(decoded), len(plan_all["inputs"]) - len(plan_old["inputs"])
        grown = chunk(plan_all, wavs)
        plain = transcribe_chunk(FireRedAedBackend(options, threads=2), wavs, plan_all, 0, "zh", batch_s, asr.guard, model)
        assert grown == plain
        assert sum(decoded) - n_old == (len(plan_all["inputs"]) if regrouped else n_new)
        decoded.clear()
