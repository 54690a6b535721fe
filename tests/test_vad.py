"""VAD without torch: silero-vad's model run by us gives its probabilities bit for bit, and our
segment rules give exactly the segments of silero-vad's own function."""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys

import numpy as np
import pytest

from firescribe.engines.silero import FRAME, speech_probabilities, speech_segments
from firescribe.plumbing.pcm import open_pcm
from firescribe.settings import default_settings

VAD = default_settings().vad


def silero_segments(probs: list[float], params, n_samples: int) -> list[tuple[int, int]]:
    from silero_vad.utils_vad import get_speech_timestamps_from_probs

    stamps = get_speech_timestamps_from_probs(
        probs,
        sampling_rate=16000,
        threshold=params.threshold,
        min_speech_duration_ms=params.min_speech_ms,
        max_speech_duration_s=params.max_speech_s or float("inf"),
        min_silence_duration_ms=params.min_silence_ms,
        speech_pad_ms=params.speech_pad_ms,
        audio_length_samples=n_samples,
    )
    return [(s["start"], s["end"]) for s in stamps]


def random_probs(rng: random.Random, n_frames: int) -> list[float]:
    """Runs of speech, pauses and in-between values (the hysteresis band), of random lengths,
    with values exactly on the thresholds among them (float32, as the model gives them)."""
    out: list[float] = []
    while len(out) < n_frames:
        kind = rng.choice(["speech", "pause", "band", "edge"])
        n = rng.choice([1, 2, 3, rng.randint(4, 20), rng.randint(20, 400)])
        for _ in range(n):
            if kind == "speech":
                out.append(rng.uniform(0.5, 1.0))
            elif kind == "pause":
                out.append(rng.uniform(0.0, 0.3))
            elif kind == "band":
                out.append(rng.uniform(0.3, 0.55))
            else:
                out.append(rng.choice([0.5, 0.35, 0.2, 0.45, 0.3, 0.0]))
    return np.asarray(out[:n_frames], dtype=np.float32).tolist()


@pytest.mark.parametrize("seed", range(60))
def test_segments_equal_silero_vads_own_rules(seed):
    rng = random.Random(seed)
    probs = random_probs(rng, rng.choice([5, 50, 600, 4000]))
    params = dataclasses.replace(
        VAD,
        threshold=rng.choice([0.5, 0.3, 0.6, 0.1]),
        min_speech_ms=rng.choice([0, 250, 1000, 2000]),
        min_silence_ms=rng.choice([0, 100, 300, 1000]),
        speech_pad_ms=rng.choice([0, 30, 100, 400]),
        max_speech_s=rng.choice([None, None, 1.0, 3.0, 10.0, 30.0]),
    )
    n_samples = len(probs) * FRAME - rng.randint(0, FRAME - 1)
    assert speech_segments(probs, params, n_samples) == silero_segments(probs, params, n_samples)


@pytest.mark.media_tools
def test_probabilities_and_segments_equal_silero_vads_on_speech(tmp_path):
    from silero_vad import load_silero_vad
    from support import media

    media.speech_track(media.SENTENCES[:6], [0.2, 1.5, 0.1, 3.0, 0.6, 0.4], tmp_path / "talk.wav")
    samples = np.asarray(open_pcm(tmp_path / "talk.wav"), dtype=np.float32) / 32768.0
    ours = speech_probabilities(samples)
    theirs = load_silero_vad(sequence=True).audio_forward(samples)
    assert np.array_equal(ours, theirs)
    probs = ours.tolist()
    for params in (VAD, dataclasses.replace(VAD, max_speech_s=4.0), dataclasses.replace(VAD, min_silence_ms=100, speech_pad_ms=30)):
        segments = speech_segments(probs, params, len(samples))
        assert len(segments) >= 2 and segments == silero_segments(probs, params, len(samples))


@pytest.mark.media_tools
def test_the_vad_step_writes_silero_segments_without_loading_torch(tmp_path):
    """The vad rule's job (firescribe.steps.vad.run_job, as scripts/vad.py calls it) with the default
    config's params: silero's segments, in its three-column TSV, and torch never imported."""
    from support import media

    from firescribe.engines.silero import detect_speech

    media.speech_track(media.SENTENCES[:3], [0.2, 1.5, 0.6], tmp_path / "talk.wav")
    tsv = tmp_path / "shard.tsv"
    code = (
        "import sys; from firescribe.steps.vad import run_job; from firescribe.settings import default_settings;"
        f"run_job({{'talk': {str(tmp_path / 'talk.wav')!r}, 'again': {str(tmp_path / 'talk.wav')!r}}}, {str(tsv)!r}, default_settings().vad_params(), 2);"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    segments = detect_speech(open_pcm(tmp_path / "talk.wav"), VAD)
    assert len(segments) >= 2
    rows = [f"{sample}\t{a:.3f}\t{b:.3f}" for sample in ("talk", "again") for a, b in segments]
    assert tsv.read_text().splitlines() == ["sample\tstart\tend", *rows]


def test_the_vad_step_runs_numpys_blas_at_one_thread_a_file():
    """The step runs one file a thread; numpy's BLAS (FireRedVAD's filterbank products) must
    not start the job's threads again inside each file (their spinning cost a 2-file job 25%
    more CPU). Checked where a file is processed, with BLAS set to 2 threads before."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from firescribe.steps.vad import detect_files

    def blas_threads(_wav):
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    with threadpool_limits(limits=2, user_api="blas"):
        assert all(n == 2 for n in blas_threads(None)), "this numpy has no BLAS threadpoolctl can set"
        found = detect_files({"a": "a.wav", "b": "b.wav"}, blas_threads, workers=2, describe=str)
    assert found["a"] and all(n == 1 for threads in found.values() for n in threads)
