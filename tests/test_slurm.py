"""The same workflow through Snakemake's Slurm executor, on a real single-node Slurm cluster.

Starts munged, slurmctld and slurmd (Debian slurm-wlm 22.05) for the test only, runs the
workflow with profiles/slurm on synthesized speech, and compares with a local run.
"""

from __future__ import annotations

import re

import pytest
from support import media
from support.slurm_cluster import missing_tools, single_node_cluster
from support.workflow import REPO, snakemake

pytestmark = [
    pytest.mark.media_tools,  # makes media with espeak-ng, sox, ffmpeg
    pytest.mark.skipif(bool(missing_tools()), reason=f"Slurm not installed (missing {missing_tools()}; Debian: apt-get install slurm-wlm munge)"),
]
FORMATS = ["json", "txt", "srt", "vtt", "tsv"]


def test_slurm_run_gives_the_same_outputs_as_a_local_run(tmp_path):
    media_dir = tmp_path / "media"
    media_dir.mkdir()
    wav = tmp_path / "talk.wav"
    media.speech_track(media.SENTENCES[:5], [0.8, 1.5, 0.5, 2.0, 0.4], wav)
    media.to_mp4_aac(wav, media_dir / "talk.mp4")
    config = {"input": media_dir, "plan": {"chunk_minutes": 0.1, "max_unit_s": 6}}  # several ASR jobs

    local = tmp_path / "local"
    local.mkdir()
    snakemake(local, config=config)

    cluster = tmp_path / "cluster"
    cluster.mkdir()
    with single_node_cluster(tmp_path / "slurm") as env:
        run = snakemake(
            cluster,
            "--profile", str(REPO / "profiles" / "slurm"),
            "--slurm-status-command", "squeue",  # no accounting daemon here, so no sacct
            "--slurm-init-seconds-before-status-checks", "2",  # default 40 s: made for queues, not tests
            "--set-threads", "asr=1",  # as the local run (asr.threads): results depend on the thread count
            "--latency-wait", "10",
            "--default-resources", "mem_mb=500", "runtime=10",
            "--set-resources", "asr:mem_mb=1500",
            config=config,
            env=env,
        )
    log = run.stdout + run.stderr
    assert log.count("has been submitted with SLURM jobid") >= 6, log[-3000:]  # extract, vad, plan, asr x2, merge, ...
    # every ASR job went through sbatch (successful jobs' Slurm logs are deleted by the plugin)
    asr_jobs = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: \S*/rule_asr/", log)
    chunks = sorted((cluster / "results" / "work" / "asr" / "talk").glob("*.json"))
    assert len(chunks) >= 2 and len(asr_jobs) == len(chunks), log[-3000:]
    for ext in FORMATS:
        a = (local / "results" / "transcripts" / f"talk.{ext}").read_bytes()
        b = (cluster / "results" / "transcripts" / f"talk.{ext}").read_bytes()
        assert a == b, ext
    assert (local / "results" / "corpus.tsv").read_text() == (cluster / "results" / "corpus.tsv").read_text()
