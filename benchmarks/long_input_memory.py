"""Peak memory of extract and VAD on a long input (default 3 hours).

Makes a long FLAC (tones with a syllable-rate envelope and pauses, plus noise), then runs
the workflow's extract and VAD functions each in a fresh process and prints wall time and
peak RSS next to the size of the decoded audio as int16 and as float32.

    python benchmarks/long_input_memory.py --hours 3
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEP = {
    "extract": "from firescribe.steps.extract import extract_audio; extract_audio({src!r}, {wav!r}, {info!r})",
    "vad": "from firescribe.settings import default_settings; from firescribe.steps.vad import run_vad; run_vad('silero', {{'talk': {wav!r}}}, {tsv!r}, default_settings().vad)",
}


def peak_rss_mb(code: str) -> tuple[float, float]:
    """Run ``code`` in a fresh Python; return (wall seconds, peak RSS MB of that process)."""
    wrapper = code + "\nimport resource; print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    t = time.time()
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True).stdout
    peak_kb = int(next(line.split()[1] for line in out.splitlines() if line.startswith("PEAK")))
    return time.time() - t, peak_kb / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=3.0)
    args = ap.parse_args()
    seconds = int(args.hours * 3600)
    with tempfile.TemporaryDirectory() as d:
        src, wav, info, tsv = (str(Path(d) / n) for n in ("long.flac", "long.wav", "long.json", "long.tsv"))
        expr = r"0.3*sin(2*PI*180*t)*gt(sin(2*PI*0.2*t)\,-0.3)*(0.5+0.5*sin(2*PI*4*t))"  # commas escaped for lavfi
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"aevalsrc={expr}:s=16000:d={seconds}",
             "-f", "lavfi", "-i", f"anoisesrc=a=0.01:r=16000:d={seconds}", "-filter_complex", "amix=inputs=2", "-ac", "1", src],
            check=True,
        )
        samples = seconds * 16000
        print(f"input: {args.hours:g} h; decoded audio: int16 {samples * 2 / 2**20:.0f} MB, float32 {samples * 4 / 2**20:.0f} MB")
        for step in ("extract", "vad"):
            wall, peak = peak_rss_mb(STEP[step].format(src=src, wav=wav, info=info, tsv=tsv))
            print(f"{step:8s} wall {wall:6.1f} s   peak RSS {peak:7.0f} MB")


if __name__ == "__main__":
    main()
