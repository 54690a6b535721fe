"""The whole workflow on generated long-form media: throughput, stage shares, jobs x threads.

Makes an MP4 of espeak-ng speech with pauses (``--minutes`` long), then runs the complete
workflow (``snakemake --cores N``) once per jobs x threads layout, each in a fresh working
folder, and prints side by side: wall time, audio seconds per wall second, the share of the
summed job time per stage (from Snakemake's benchmark files), the ASR jobs' peak resident
(RSS) and unique (USS) memory as Snakemake recorded them, and the padding fraction of the
ASR batches.

    python benchmarks/workflow.py --minutes 10 --layouts 1x2 2x1                # whisper tiny.en
    python benchmarks/workflow.py --minutes 3 --backend fireredasr-aed \\
        --model-dir benchmarks/out/random-aed-l --decode-max-len 240 --layouts 1x2 2x1

With a random-weight FireRedASR checkpoint the decoder never emits EOS, so
``--decode-max-len`` fixes the work per unit (240 tokens per 60 s unit = 4 per second,
Mandarin's speaking rate). The pauses are short (<= 0.8 s) so units fill up to 60 s.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import media  # noqa: E402

from firescribe.settings import default_settings  # noqa: E402
from firescribe.steps.plan import make_batches, padding_fraction  # noqa: E402
from firescribe.steps.report import stage_seconds  # noqa: E402

OVERHEAD = ["extract", "vad", "plan", "merge"]


def make_media(minutes: float, out: Path, seed: int = 0) -> float:
    rng = random.Random(seed)
    sentences, pauses, total = [], [], 0.0
    while total < minutes * 60:
        s = rng.choice(media.SENTENCES)
        sentences.append(s)
        pauses.append(rng.choice([0.3, 0.5, 0.8]))
        total += 3.2 + pauses[-1]  # about 3.2 s per sentence at espeak's 160 wpm
    wav = out.with_suffix(".wav")
    utts = media.speech_track(sentences, pauses, wav)
    media.to_mp4_aac(wav, out)
    wav.unlink()
    return utts[-1].end


def run(media_dir: Path, work: Path, cores: int, jobs: int, threads: int, extra: dict) -> dict:
    work.mkdir(parents=True)
    config = {"input": str(media_dir), "asr": {"threads": threads}, **extra}
    (work / "bench.yaml").write_text(yaml.safe_dump(config))
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(work),
        "--cores", str(cores), "--configfile", str(ROOT / "config" / "config.yaml"), str(work / "bench.yaml"),
    ]
    t = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t
    if proc.returncode:
        raise SystemExit(f"snakemake failed:\n{proc.stderr[-4000:]}")
    bench = work / "results" / "benchmarks"
    asr = pd.concat([pd.read_csv(f, sep="\t") for f in sorted((bench / "asr").rglob("*.tsv"))])
    plan = json.loads(next((work / "results" / "work" / "plan").glob("*.json")).read_text())
    return {
        "wall": wall,
        "stages": stage_seconds(bench),
        "asr_jobs": len(asr),
        "rss": asr["max_rss"].max(),
        "uss": asr["max_uss"].max(),
        "units": len(plan["units"]),
        "chunks": len(plan["chunks"]),
        "durations": [sum(b - a for a, b in unit) for unit in plan["units"]],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--layouts", nargs="+", default=["1x2", "2x1"], help="JOBSxTHREADS per ASR job, e.g. 1x2 2x1 (jobs x threads = cores)")
    ap.add_argument("--backend", default="whisper", choices=["whisper", "fireredasr-aed"])
    ap.add_argument("--model-dir", type=Path, help="FireRedASR model folder")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "int8"])
    ap.add_argument("--runtime", default="torch", choices=["torch", "onnxruntime"], help="FireRedASR: torch, or ONNX Runtime on graphs the prepare_model step makes")
    ap.add_argument("--decode-max-len", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="keep the working folders here")
    args = ap.parse_args()

    root = Path(args.keep or tempfile.mkdtemp(prefix="firescribe-bench-"))
    media_dir = root / "media"
    media_dir.mkdir(parents=True, exist_ok=True)
    audio_s = make_media(args.minutes, media_dir / "talk.mp4")
    extra: dict = {"backend": args.backend}
    if args.backend == "fireredasr-aed":
        extra["fireredasr_aed"] = {"model_dir": str(args.model_dir.resolve()), "precision": args.precision, "runtime": args.runtime, "decode_max_len": args.decode_max_len}
    print(f"media: {audio_s / 60:.1f} min of speech with pauses (MP4/AAC); backend {args.backend}"
          + (f" {args.runtime} {args.precision}, decode_max_len {args.decode_max_len}" if args.backend != "whisper" else " tiny.en int8")
          + f"; --cores {args.cores}\n", flush=True)

    rows = []
    for layout in args.layouts:
        jobs, threads = (int(x) for x in layout.split("x"))
        # at least `jobs` chunks so that `jobs` ASR jobs can run at once
        minutes_per_chunk = max(0.25, audio_s / 60 / (2 * jobs))
        r = run(media_dir, root / f"run-{layout}", args.cores, jobs, threads, {**extra, "plan": {"chunk_minutes": round(minutes_per_chunk, 2)}})
        st = r["stages"].set_index("stage")
        total = st["seconds"].sum()
        overhead = st.loc[st.index.isin(OVERHEAD), "seconds"].sum()
        rows.append({
            "jobs x threads": layout,
            "wall s": round(r["wall"], 1),
            "audio s / wall s": round(audio_s / r["wall"], 2),
            "units": r["units"],
            "asr jobs": r["asr_jobs"],
            "asr share": f"{100 * st.loc['asr', 'seconds'] / total:.1f}%",
            "extract+vad+plan+merge": f"{100 * overhead / total:.1f}%",
            "asr job RSS MB": round(r["rss"]),
            "asr job USS MB": round(r["uss"]),
        })
        print(r["stages"].to_string(index=False, float_format=lambda x: f"{x:.3f}"), flush=True)
        print(flush=True)
    print(pd.DataFrame(rows).to_string(index=False))

    # padding: units batched in time order, a fixed count per batch (the old script's way),
    # against length-sorted batches filled up to the audio budget (what the ASR step does)
    durations = r["durations"]
    budget = default_settings(backend=args.backend).asr.batch_seconds
    fixed = [list(range(i, min(i + 8, len(durations)))) for i in range(0, len(durations), 8)]
    print(f"\npadding (share of computed audio that is padding) over these {len(durations)} units: "
          f"time order, 8 per batch {100 * padding_fraction(durations, fixed):.1f}%; "
          f"length-sorted, {budget:g} s budget {100 * padding_fraction(durations, make_batches(durations, budget)):.1f}%")
    print("\n(shares are of the summed wall time of all jobs; RSS/USS are the peaks Snakemake's benchmark"
          " recorded per ASR job: USS also counts model-file pages no other process mapped at that moment,"
          " so for what a concurrent job adds see benchmarks/shared_weights.py)")


if __name__ == "__main__":
    main()
