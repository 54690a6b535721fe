"""Kill the workflow in the middle of ASR (SIGKILL to Snakemake's process group), rerun it as
the README says, and get exactly what an uninterrupted run gives, without redoing finished work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from support import media
from support.workflow import REPO, snakemake

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg

FILES = ["json", "txt", "srt", "vtt", "tsv"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    m = root / "media"
    m.mkdir()
    for i, sentences in enumerate([media.SENTENCES[:10], media.SENTENCES[10:20]]):
        wav = root / f"s{i}.wav"
        media.speech_track(sentences, [0.7, 1.2, 0.5, 1.6, 0.9] * 2, wav)
        media.to_mp4_aac(wav, m / f"talk{i}.mp4")
    return {"root": root, "config": {"input": str(m), "plan": {"chunk_minutes": 0.2}, "asr": {"threads": 1}}}


def test_kill_during_asr_then_resume(setup):
    root, config = setup["root"], setup["config"]
    clean, killed = root / "clean", root / "killed"
    clean.mkdir()
    killed.mkdir()
    snakemake(clean, config=config)

    # the same run, killed once some chunks are done
    override = killed / "test-config.yaml"
    import yaml

    override.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(killed), "--cores", "1",
           "--configfile", str(REPO / "config" / "config.yaml"), str(override)]
    proc = subprocess.Popen(cmd, cwd=killed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    asr_dir = killed / "results" / "work" / "asr"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(asr_dir.glob("*/*.json"))) < 2:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p: p.stat().st_mtime_ns for p in asr_dir.glob("*/*.json")}
    assert len(done_before) >= 2
    n_chunks = sum(1 for p in (clean / "results" / "work" / "asr").glob("*/*.json"))
    assert len(done_before) < n_chunks, "the run finished before it could be killed"

    # as the README says: unlock, then the same command again
    snakemake(killed, "--unlock", config=config)
    snakemake(killed, config=config)

    assert {p: p.stat().st_mtime_ns for p in done_before} == done_before  # finished chunks not recomputed
    for f in (clean / "results" / "transcripts").iterdir():
        assert (killed / "results" / "transcripts" / f.name).read_bytes() == f.read_bytes(), f.name
    assert (killed / "results" / "corpus.tsv").read_bytes() == (clean / "results" / "corpus.tsv").read_bytes()
