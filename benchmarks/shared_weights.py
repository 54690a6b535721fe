"""What a second concurrent FireRedASR job adds to memory, per variant (torch fp32 memory-mapped,
torch int8, ONNX Runtime fp32 and int8).

Starts two worker processes one after the other, each as an ASR job would: load the model
folder, convert to the precision, transcribe a 10 s unit, then wait. While both are alive,
reads each one's /proc/PID/smaps_rollup: Rss (all it touches), Shared (pages it shares with
the other, e.g. the page-cached model file) and Private (what it alone holds, i.e. what this
job adds to the machine).

    python benchmarks/shared_weights.py --model-dir benchmarks/out/random-aed-l
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import dataclasses, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, torch
torch.set_num_threads(1)
from firescribe.engines.backends.fireredasr import FireRedAedBackend
from firescribe.settings import default_settings
model_dir, variant, prepared = sys.argv[1:4]
runtime, precision = ("onnxruntime", variant[5:]) if variant.startswith("onnx-") else ("torch", variant)
section = {"model_dir": model_dir, "runtime": runtime, "precision": precision, "decode_max_len": 8}
options = default_settings(backend="fireredasr-aed", fireredasr_aed=section).asr.options
if runtime == "onnxruntime":
    options = dataclasses.replace(options, prepared_dir=prepared)
backend = FireRedAedBackend(options, threads=1)  # as an ASR job loads it
audio = (np.random.default_rng(0).standard_normal(160000) * 3000).astype(np.int16)
backend.transcribe([audio], None)
print("ready", flush=True)
sys.stdin.read()
"""


def rollup(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0]) // 1024  # MB
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", type=Path, default=ROOT / "benchmarks" / "out" / "random-aed-l")
    ap.add_argument("--precisions", nargs="+", default=["fp32", "int8", "onnx-fp32", "onnx-int8"], help="onnx-*: ONNX Runtime on the graphs benchmarks/fireredasr_engine.py prepared")
    args = ap.parse_args()
    size = (args.model_dir / "model.pth.tar").stat().st_size / 2**20
    print(f"model file {size:.0f} MB\n")
    print(f"{'precision':>9} {'job':>4} {'Rss MB':>8} {'Shared MB':>10} {'Private MB':>11}")
    for precision in args.precisions:
        procs = []
        try:
            for _ in range(2):
                prepared = args.model_dir.parent / f"prepared-{args.model_dir.name.removeprefix('random-')}" / f"onnxruntime-{precision[5:]}"
                p = subprocess.Popen([sys.executable, "-c", WORKER, str(args.model_dir), precision, str(prepared)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                assert p.stdout.readline().strip() == "ready"
                procs.append(p)
            for i, p in enumerate(procs, 1):
                r = rollup(p.pid)
                shared = r["Shared_Clean"] + r["Shared_Dirty"]
                private = r["Private_Clean"] + r["Private_Dirty"]
                print(f"{precision:>9} {i:>4} {r['Rss']:>8} {shared:>10} {private:>11}", flush=True)
        finally:
            for p in procs:
                p.kill()
                p.wait()
    print("\n(Private of job 2 = what a second concurrent job adds; fp32 weights are shared via the page cache)")


if __name__ == "__main__":
    main()
