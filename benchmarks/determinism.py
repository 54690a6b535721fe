"""Where the same bytes hold (docs/usage.md#determinism-and-provenance): each backend's
output for the same units decoded alone and in one batch, with 1 and 2 threads; and the
guard's sampled re-decode (whisper's temperature fallback) with the same seed twice, another
seed, and 1 or 2 threads, with the time to load the seeded sampler's CTranslate2 model.

Units: four espeak-ng sentences and a "song" (espeak-ng sung over plucked chords, on which
tiny.en's re-decode samples). Backends: whisper tiny.en (CTranslate2 int8) and FireRedASR-AED
on a small random-weight checkpoint of the official format (torch fp32).

    python benchmarks/determinism.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import media, official  # noqa: E402
from support.settings import firered_options, whisper_options  # noqa: E402

from firescribe.plumbing.pcm import open_pcm, to_float  # noqa: E402
from firescribe.settings import default_settings  # noqa: E402


def song(folder: Path) -> Path:
    music = media.music(folder / "music.wav", 14)
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "90", "-p", "80", "-w", str(folder / "sung.raw.wav"),
                    "la la la la, oh baby baby, la la la la, oh yeah yeah, na na na na na"], check=True)
    subprocess.run(["sox", "-D", str(folder / "sung.raw.wav"), "-r", "16000", "-c", "1", "-b", "16", str(folder / "sung.wav")], check=True)
    subprocess.run(["sox", "-D", "-m", "-v", "1.0", str(folder / "sung.wav"), "-v", "0.8", str(music), str(folder / "song.wav"), "trim", "0", "12"], check=True)
    return folder / "song.wav"


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from firescribe.engines.backends.fireredasr import FireRedAedBackend
    from firescribe.engines.backends.whisper import WhisperBackend

    tmp = Path(tempfile.mkdtemp(prefix="determinism-"))
    units = []
    for i, sentence in enumerate(media.SENTENCES[:4]):
        media.speech_track([sentence], [0.3], tmp / f"u{i}.wav")
        units.append(to_float(open_pcm(tmp / f"u{i}.wav")))
    units.append(to_float(open_pcm(song(tmp))))
    guard = default_settings().asr.guard
    model_dir = official.make_model_dir(tmp / "aed")
    rows, outputs = [], {}
    for threads in (1, 2):
        backends = {"whisper tiny.en": (WhisperBackend(whisper_options(), threads=threads), "en", units),
                    "FireRedASR-AED (random weights)": (FireRedAedBackend(firered_options(model_dir), threads=threads), "zh", units[:4])}
        for name, (backend, lang, us) in backends.items():
            alone = [[asdict(s) for s in backend.transcribe([u], lang)[0]] for u in us]
            batch = [[asdict(s) for s in out] for out in backend.transcribe(us, lang)]
            outputs[(name, threads)] = (alone, batch)
            rows.append({"backend": name, "threads": threads, "units": len(us),
                         "alone = batched (units)": sum(a == b for a, b in zip(alone, batch)),
                         "text alone = batched": sum([s["text"] for s in a] == [s["text"] for s in b] for a, b in zip(alone, batch))})
        whisper = backends["whisper tiny.en"][0]
        runs = []
        for seed in (1, 1, 2):
            t0 = time.perf_counter()
            segments, how = whisper.redecode(units[-1], "en", guard, seed)
            runs.append((" | ".join(s.text for s in segments), how, time.perf_counter() - t0))
        rows.append({"backend": "whisper re-decode of the song", "threads": threads, "units": 1,
                     "sampled": ", ".join(map(str, runs[0][1].get("temperatures", []))),
                     "same seed, same text": runs[0][0] == runs[1][0], "other seed, other text": runs[0][0] != runs[2][0],
                     "re-decode s": round(runs[0][2], 2)})
        outputs[("re-decode", threads)] = runs[0][0]
        t0 = time.perf_counter()
        whisper._sampler()
        rows[-1]["sampler load s"] = round(time.perf_counter() - t0, 3)
    table = pd.DataFrame(rows).fillna("")
    print(table.to_string(index=False))
    for name in ("whisper tiny.en", "FireRedASR-AED (random weights)", "re-decode"):
        print(f"{name}: 1 thread = 2 threads: {outputs[(name, 1)] == outputs[(name, 2)]}")


if __name__ == "__main__":
    main()
