"""What the guard (firescribe.text.guard) costs: when nothing trips, and when a unit is re-decoded.

1. Nothing trips: whisper tiny.en int8 on a talk with pauses, the ASR step's own code
   (transcribe_chunk) with the guard off and on, in turns (``--repeats`` rounds); and the time
   of the checks themselves (firescribe.text.guard.trips over every unit's text), as a share of the
   ASR time. The wall-clock difference is within the machine's noise; the checks' own time is
   the figure.
2. A unit trips: the time to decode it and to re-decode it, for whisper (20 s of brown noise:
   tiny.en writes "you"; the re-decode is faster-whisper's sequential mode with temperature
   fallback) and for FireRedASR-AED (a small random-weight checkpoint, which loops; the
   re-decode decodes the two halves).

    python benchmarks/guard.py --minutes 3 --repeats 3
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import media, official  # noqa: E402
from support.settings import firered_options  # noqa: E402

from firescribe.engines.backends.fireredasr import FireRedAedBackend  # noqa: E402
from firescribe.engines.backends.whisper import WhisperBackend  # noqa: E402
from firescribe.engines.silero import detect_speech  # noqa: E402
from firescribe.plumbing.pcm import open_pcm, to_float  # noqa: E402
from firescribe.settings import default_settings  # noqa: E402
from firescribe.steps.asr import transcribe_chunk  # noqa: E402
from firescribe.steps.plan import file_plan, plan_audio  # noqa: E402
from firescribe.text.guard import trips  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    settings = default_settings()  # whisper's
    guard = settings.asr.guard
    off = dataclasses.replace(guard, enabled=False)
    tmp = Path(tempfile.mkdtemp(prefix="firescribe-guard-bench-"))
    sentences, pauses = media.script(1, args.minutes * 60, media.PAUSED)
    media.speech_track(sentences, pauses, tmp / "talk.wav")
    pcm = open_pcm(tmp / "talk.wav")
    units = plan_audio(pcm, detect_speech(pcm, settings.vad), settings.plan)
    plan = file_plan("talk", units, chunk_s=math.inf)  # one chunk of all units
    whisper = WhisperBackend(settings.asr.options, args.threads)
    print(f"talk: {len(pcm) / 16000 / 60:.1f} min, {len(units)} units; tiny.en int8, {args.threads} threads", flush=True)

    walls: dict[str, list[float]] = {"guard off": [], "guard on": []}
    for r in range(args.repeats):
        for name, g in (("guard off", off), ("guard on", guard)):
            doc, wall = timed(lambda g=g: transcribe_chunk(whisper, {"talk": str(tmp / "talk.wav")}, plan, 0, "en", 240.0, g))
            walls[name].append(wall)
            print(f"  round {r + 1}: {name}: {wall:.2f} s, units guarded: {sum('guard' in u for u in doc['units'])}", flush=True)
    unit_segments = [u["segments"] for u in doc["units"]]
    seconds = [sum(b - a for a, b in u) for u in units]
    _, check_s = timed(lambda: [trips(s, d, guard) for s, d in zip(unit_segments, seconds)])
    asr_s = float(np.median(walls["guard off"]))
    rows = [
        {"case": "talk, nothing trips", "ASR s (median, guard off)": round(asr_s, 3),
         "ASR s (median, guard on)": round(float(np.median(walls["guard on"])), 3),
         "checks s": round(check_s, 5), "checks / ASR %": round(100 * check_s / asr_s, 4)},
    ]

    subprocess.run(["sox", "-R", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(tmp / "noise.wav"), "synth", "20", "brownnoise", "vol", "0.5"], check=True)
    noise = to_float(open_pcm(tmp / "noise.wav"))
    speech = to_float(pcm)[: 8 * 16000]
    firered = FireRedAedBackend(firered_options(official.make_model_dir(tmp / "small-aed")), args.threads)
    for case, backend, audio, lang in (("whisper, 20 s of noise", whisper, noise, "en"), ("FireRedASR-AED small random, 8 s (loops)", firered, speech, "zh")):
        first, decode_s = timed(lambda: backend.transcribe([audio], lang)[0])
        (second, _), redecode_s = timed(lambda: backend.redecode(audio, lang, guard, 0))
        rows.append({"case": case, "decode s": round(decode_s, 3), "re-decode s": round(redecode_s, 3),
                     "re-decode / decode": round(redecode_s / decode_s, 2),
                     "text": f"{' '.join(s.text for s in first)[:24]!r} -> {' '.join(s.text for s in second)[:24]!r}"})
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
