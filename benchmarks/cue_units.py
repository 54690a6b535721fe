"""What cue-sized units (plan.cue_units, FireRedASR-AED v1's default) cost against 60 s units,
on the full-size AED-L (random weights, 1.14 B parameters; compute does not depend on weight
values), torch fp32 and ONNX Runtime int8, on the same media.

Media: espeak-ng sentences with pauses of 0.4-2 s. Plans: the workflow's plan code, FireRedASR-AED
defaults (units up to 60 s across pauses up to 1 s) and cue-sized (each unit ends at a VAD pause,
at most 7 s). Each plan's units are length-sorted into batches of 120 s of padded audio, as the
ASR step does, and decoded with beam 3. The untrained model never emits EOS, so each batch
decodes a fixed ``--tokens-per-second`` x its longest unit's seconds steps (a trained model stops
each unit at its own end: this is an upper bound for batches of mixed lengths).

    python benchmarks/cue_units.py --minutes 2 --threads 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import aed_l  # noqa: E402
from support import media  # noqa: E402

from firescribe.engines.fireredasr.beam_search import BeamParams  # noqa: E402
from firescribe.engines.silero import detect_speech  # noqa: E402
from firescribe.plumbing.pcm import open_pcm, read_span  # noqa: E402
from firescribe.settings import default_settings  # noqa: E402
from firescribe.steps.plan import make_batches, plan_audio, unit_seconds  # noqa: E402

BATCH_S = 120.0  # the ASR step's batch for FireRedASR-AED (workflow.batch_seconds)


def decode(model, features, pcm, units, beam: int, tokens_per_second: float) -> float:
    """Wall seconds to decode ``units`` in the ASR step's length-sorted batches."""
    durations = [unit_seconds(u) for u in units]
    t = time.perf_counter()
    for batch in make_batches(durations, BATCH_S):
        audio = [np.concatenate([read_span(pcm, a, b) for a, b in units[k]]) for k in batch]
        steps = max(1, int(round(tokens_per_second * max(durations[k] for k in batch))))
        model.transcribe(*features.batch(audio), BeamParams(beam_size=beam, nbest=1, decode_max_len=steps))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam", type=int, default=3)
    ap.add_argument("--tokens-per-second", type=float, default=4.0)
    ap.add_argument("--variants", nargs="+", default=list(aed_l.VARIANTS), choices=aed_l.VARIANTS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    loaded, variants = aed_l.load(args.variants, args.threads)

    tmp = Path(tempfile.mkdtemp(prefix="firescribe-cue-bench-"))
    sentences, pauses = media.script(5, args.minutes * 60, media.PAUSED)
    media.speech_track(sentences, pauses, tmp / "talk.wav")
    pcm = open_pcm(tmp / "talk.wav")
    settings = default_settings(backend="fireredasr-aed")
    long = settings.plan.for_model(word_times=True)
    plans = {"60 s units (cue_units: false)": long, "cue-sized (<= 7 s, the v1 default)": settings.plan.for_model(word_times=False)}
    speech = detect_speech(pcm, settings.vad)
    units = {name: plan_audio(pcm, speech, p) for name, p in plans.items()}
    audio_s = len(pcm) / 16000
    print(f"media {audio_s:.0f} s; AED-L random, beam {args.beam}, {args.tokens_per_second:g} steps per unit second, {args.threads} threads")
    for name, us in units.items():
        d = [unit_seconds(u) for u in us]
        print(f"  {name}: {len(us)} units, {sum(d):.0f} s of audio, longest {max(d):.1f} s")
    warm = [[(0.0, 2.0)]]
    rows = []
    for vname, model in variants.items():
        decode(model, loaded.features, pcm, warm, args.beam, 1.0)
        walls = {name: decode(model, loaded.features, pcm, us, args.beam, args.tokens_per_second) for name, us in units.items()}
        base = walls[next(iter(walls))]
        for name, wall in walls.items():
            rows.append(f"{vname:>10} | {name:<36} | {wall:8.1f} s | RTF {wall / audio_s:.3f} | x{wall / base:.2f}")
            print(rows[-1], flush=True)


if __name__ == "__main__":
    main()
