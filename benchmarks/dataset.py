"""Datasets of many short files: the workflow against a one-process faster-whisper script.

Everything in one run, taking turns:

1. **A dataset-shaped corpus**: ``--files`` WAV utterances of one or two espeak-ng sentences
   (2-9 s; tests/support/media.py ``dataset``). Ours: ``snakemake --cores N`` in a fresh
   working directory (everything a run does: extraction, VAD, plan, ASR, merge, corpus table,
   report), once per ``--asr-threads`` layout (the default config: each file its own whisper
   window, the windows of many files batched together), and once with ``plan.pack_files:
   true`` (several files to a window) to show what packing does to speed and accuracy.
   The peer: one Python process that loads faster-whisper's ``BatchedInferencePipeline``
   once and transcribes each file with word times (benchmarks/peer_workflow.py's script).
   Same model (tiny.en), compute type (int8), threads, batch (8) and beam (5). Printed: wall,
   WER against the sentences spoken, jobs, and Snakemake's own CPU seconds (its process
   alone: DAG building, scheduling, checkpoints; the jobs are other processes).
2. **A dry run over ``--dry-run-files`` files** (links to the corpus's files): wall and jobs.
3. **Model loads** (``--model-loads``): what one ASR job pays before decoding, in a fresh
   process (imports and model load), for tiny.en and each FireRedASR-AED variant on the
   full-size random AED-L (benchmarks/aed_l.py, made once under benchmarks/out/).
4. **The long-form corpus** of benchmarks/peer_workflow.py (``--long-minutes`` of speech in
   8 files), ours (each ``--asr-threads`` layout) against the same script, so nothing
   regresses.
5. **What the audio checks cost** (``--probe-files``): extraction of that many utterances,
   as mono WAV, stereo WAV and stereo AAC in MP4, by the bare ffmpeg command extraction ran
   before the checks against ``extract_audio`` now (a WAV's header read, other files'
   tracks probed in-process, the mix's level read), one file at a time, the two in turn;
   the checks alone, timed in-process, as a share of the extraction; and what importing
   PyAV costs an extract job once.

    python benchmarks/dataset.py --files 1000 --asr-threads 1 2 --dry-run-files 10000 --long-minutes 24 --model-loads --probe-files 300
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from peer_workflow import make_corpus, run_peer, wer  # noqa: E402
from support import media  # noqa: E402

# snakemake in this process, reporting its own CPU time (not its jobs': other processes)
SNAKEMAKE = r"""
import resource, runpy, sys
out, sys.argv = sys.argv[1], ["snakemake", *sys.argv[2:]]
try:
    runpy.run_module("snakemake", run_name="__main__")
finally:
    r = resource.getrusage(resource.RUSAGE_SELF)
    open(out, "w").write(str(r.ru_utime + r.ru_stime))
"""

LOAD_WHISPER = (
    "from firescribe.engines.backends.whisper import WhisperBackend; from firescribe.settings import default_settings;"
    " WhisperBackend(default_settings().asr.options, threads=1)"
)
AED_VARIANTS = (("torch", "fp32"), ("torch", "int8"), ("onnxruntime", "fp32"), ("onnxruntime", "int8"))


def load_aed(model_dir: Path, prepared: Path, runtime: str, precision: str) -> str:
    """Python that loads the FireRedASR-AED backend as an ASR job does."""
    section = {"model_dir": str(model_dir), "runtime": runtime, "precision": precision}
    return (
        "import dataclasses; from firescribe.engines.backends.fireredasr import FireRedAedBackend; from firescribe.settings import default_settings;"
        f" o = default_settings(backend='fireredasr-aed', fireredasr_aed={section!r}).asr.options;"
        + (f" o = dataclasses.replace(o, prepared_dir={str(prepared)!r});" if runtime == "onnxruntime" else "")
        + " FireRedAedBackend(o, threads=1)"
    )


def run_ours(corpus: Path, work: Path, cores: int, config: dict, *args: str) -> dict:
    """One run of the workflow; wall, texts by file name, jobs, Snakemake's own CPU seconds."""
    work.mkdir(parents=True)
    (work / "run.yaml").write_text(json.dumps({"input": str(corpus), "language": "en", **config}))  # JSON is YAML
    cpu = work / "snakemake-cpu.txt"
    cmd = [sys.executable, "-c", SNAKEMAKE, str(cpu), "-s", str(ROOT / "Snakefile"), "--cores", str(cores), "--directory", str(work),
           "--configfile", str(ROOT / "config" / "config.yaml"), str(work / "run.yaml"), "--quiet", *args]
    t = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake failed:\n{proc.stderr[-3000:]}")
    texts = {}
    for doc in (work / "results" / "transcripts").glob("*.json"):
        d = json.loads(doc.read_text())
        texts[d["source"]] = d["text"]
    jobs = sum(1 for _ in (work / "results" / "benchmarks").rglob("*.tsv")) + 1  # + the target rule all
    return {"wall s": wall, "texts": texts, "jobs": jobs, "snakemake cpu s": float(cpu.read_text())}


def dry_run(corpus: Path, work: Path) -> tuple[float, int]:
    work.mkdir(parents=True)
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2", "--directory", str(work), "-n",
           "--configfile", str(ROOT / "config" / "config.yaml"), "--config", f"input={corpus}"]
    t = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.monotonic() - t
    total = re.search(r"^total\s+(\d+)$", proc.stdout, re.M)
    return wall, int(total.group(1))


def model_loads(repeats: int) -> pd.DataFrame:
    """Seconds from a fresh Python to a loaded backend, as an ASR job pays them."""
    import aed_l

    aed_l.load(["fp32", "onnx-fp32", "onnx-int8"], threads=1)  # makes the model and the prepared graphs once
    loads = {"whisper tiny.en": LOAD_WHISPER}
    for runtime, precision in AED_VARIANTS:
        prepared = aed_l.MODEL_DIR.parent / "prepared-aed-l" / f"onnxruntime-{precision}"
        loads[f"FireRedASR-AED-L {runtime} {precision}"] = load_aed(aed_l.MODEL_DIR, prepared, runtime, precision)
    rows = []
    for name, code in loads.items():
        walls = []
        for _ in range(repeats):
            t = time.monotonic()
            subprocess.run([sys.executable, "-c", f"from firescribe.plumbing.threads import pin_threads; pin_threads(1); {code}"], check=True, capture_output=True)
            walls.append(time.monotonic() - t)
        rows.append({"model": name, "load s (median)": sorted(walls)[len(walls) // 2], "runs": repeats})
    return pd.DataFrame(rows)


def compare(rows: list[dict], peer: str) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    medians = table.groupby("run", sort=False)[["wall s", "WER", "jobs", "snakemake cpu s"]].median()
    medians["script / ours"] = medians.loc[peer, "wall s"] / medians["wall s"]
    return medians


def extraction_cost(folder: Path, n: int, repeats: int) -> pd.DataFrame:
    """Per file of ``n`` utterances of ``folder``, per kind of file: ``extract_audio`` now,
    the bare ffmpeg command extraction ran before the audio checks (in turn with it, file by
    file), and the checks alone, timed in-process on the same file (the track probe, the
    WAV header, the mix's level): their share of the extraction."""
    from firescribe.steps.extract import extract_audio, ffmpeg_input, level_db, pcm_output, probe_tracks, wav_shortfall

    sources = sorted(folder.glob("*.wav"))[:n]
    kinds = {"mono WAV": [], "stereo WAV": [], "stereo AAC MP4": []}
    made = folder.parent / "probe-media"
    made.mkdir(exist_ok=True)
    for src in sources:
        kinds["mono WAV"].append(src)
        stereo = made / f"{src.stem}.wav"
        subprocess.run(["sox", "-D", str(src), "-c", "2", str(stereo)], check=True)
        kinds["stereo WAV"].append(stereo)
        mp4 = made / f"{src.stem}.mp4"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(stereo), "-c:a", "aac", str(mp4)], check=True)
        kinds["stereo AAC MP4"].append(mp4)
    out = made / "out"
    out.mkdir(exist_ok=True)

    def bare(f):
        subprocess.run(ffmpeg_input(str(f)) + pcm_output(str(out / "a.wav")), capture_output=True, check=True)

    def now(f):
        extract_audio(f, out / "b.wav", out / "b.json")

    def checks(f):
        tracks = probe_tracks(str(f))
        wav_shortfall(str(f))
        if tracks and tracks[0].channels > 1:
            level_db(out / "b.wav")

    rows = []
    for kind, files in kinds.items():
        # file by file, the two commands in turn (which goes first alternating), so that a
        # load on the machine that comes and goes falls on both alike
        times = {"bare": 0.0, "now": 0.0, "checks": 0.0}
        for _ in range(repeats):
            for i, f in enumerate(files):
                for name, run in ((("bare", bare), ("now", now)) if i % 2 == 0 else (("now", now), ("bare", bare))) + (("checks", checks),):
                    t = time.perf_counter()
                    run(f)
                    times[name] += time.perf_counter() - t
        per = {k: 1000 * v / (repeats * len(files)) for k, v in times.items()}
        rows.append({"files": kind, "extraction ms/file": per["now"], "bare ffmpeg ms/file": per["bare"], "checks ms/file": per["checks"], "checks / extraction": per["checks"] / per["now"]})
    return pd.DataFrame(rows)


def import_pyav() -> float:
    """Seconds a fresh process spends importing PyAV (once per extract job), median of 3."""
    times = []
    for _ in range(3):
        code = "import time; t = time.perf_counter(); import av; print(time.perf_counter() - t)"
        times.append(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout))
    return sorted(times)[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000, help="utterances in the dataset-shaped corpus; 0: skip it")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="threads of the script's model")
    ap.add_argument("--asr-threads", type=int, nargs="+", default=[1], help="asr.threads of ours, one run per value")
    ap.add_argument("--dry-run-files", type=int, default=10000, help="0: no dry run")
    ap.add_argument("--long-minutes", type=float, default=24, help="speech in the long-form corpus; 0: skip it")
    ap.add_argument("--model-loads", action="store_true", help="also time each model's load (makes the AED-L once: minutes, ~10 GB of disk)")
    ap.add_argument("--probe-files", type=int, default=0, help="utterances whose extraction is timed before and with the audio checks; 0: skip it")
    args = ap.parse_args()
    peer = "script: faster-whisper, one process, word times"

    tmp = Path(tempfile.mkdtemp(prefix="firescribe-dataset-"))
    if args.files:
        t = time.monotonic()
        refs = media.dataset(tmp / "corpus", args.files, seed=0)
        print(f"made {args.files} utterances in {time.monotonic() - t:.0f} s under {tmp}", flush=True)
        layouts = [(f"ours: asr.threads {n}", {"asr": {"threads": n}}) for n in args.asr_threads]
        layouts.append((f"ours: asr.threads {args.asr_threads[0]}, pack_files true", {"asr": {"threads": args.asr_threads[0]}, "plan": {"pack_files": True}}))
        rows = []
        for r in range(args.repeats):
            for i, (name, config) in enumerate(layouts):
                run = run_ours(tmp / "corpus", tmp / f"ours{r}-{i}", args.cores, config)
                rows.append({"run": name, "round": r + 1, "wall s": run["wall s"], "WER": wer(refs, run["texts"]), "jobs": run["jobs"], "snakemake cpu s": run["snakemake cpu s"]})
                print(f"round {r + 1}: {name}: {run['wall s']:.1f} s, {run['jobs']} jobs, Snakemake's own CPU {run['snakemake cpu s']:.1f} s", flush=True)
            wall, _, texts = run_peer(tmp / "corpus", tmp / f"peer{r}.json", args.threads, "words")
            rows.append({"run": peer, "round": r + 1, "wall s": wall, "WER": wer(refs, texts), "jobs": 1})
            print(f"round {r + 1}: {peer}: {wall:.1f} s", flush=True)
        speech = sum(media.duration(p) for p in (tmp / "corpus").glob("*.wav")) / 60
        print(f"\n{args.files} utterances, {speech:.1f} min of audio; tiny.en int8, beam 5, batch 8; script {args.threads} threads, ours --cores {args.cores}")
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        print("\nmedians:")
        print(compare(rows, peer).to_string(float_format=lambda x: f"{x:.3f}"))

    if args.dry_run_files:
        many = tmp / f"corpus-{args.dry_run_files}"
        many.mkdir()
        if not args.files:
            media.dataset(tmp / "corpus", 100, seed=0)
        sources = sorted((tmp / "corpus").glob("*.wav"))
        for i in range(args.dry_run_files):
            os.link(sources[i % len(sources)], many / f"u{i:06d}.wav")
        wall, jobs = dry_run(many, tmp / "dry")
        print(f"\ndry run over {args.dry_run_files} files: {wall:.1f} s, {jobs} jobs before the plans add the ASR jobs")

    if args.model_loads:
        print("\nper-job model load (a fresh process: imports and load, 1 thread):")
        print(model_loads(3).to_string(index=False, float_format=lambda x: f"{x:.2f}"))

    if args.probe_files:
        if not (tmp / "corpus").is_dir():
            media.dataset(tmp / "corpus", args.probe_files, seed=0)
        table = extraction_cost(tmp / "corpus", args.probe_files, max(3, args.repeats))
        print(f"\nextraction, one file at a time, and what the audio checks take of it ({max(3, args.repeats)} rounds):")
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        print(f"importing PyAV, once per extract job: {import_pyav():.3f} s")

    if args.long_minutes:
        long_refs = make_corpus(tmp / "long", args.long_minutes)
        rows = []
        for r in range(args.repeats):
            for n in args.asr_threads:
                run = run_ours(tmp / "long", tmp / f"long-ours{r}-{n}", args.cores, {"asr": {"threads": n}})
                rows.append({"run": f"ours: asr.threads {n}", "round": r + 1, "wall s": run["wall s"], "WER": wer(long_refs, run["texts"]), "jobs": run["jobs"], "snakemake cpu s": run["snakemake cpu s"]})
                print(f"long-form round {r + 1}: ours, asr.threads {n}: {run['wall s']:.1f} s", flush=True)
            wall, _, texts = run_peer(tmp / "long", tmp / f"long-peer{r}.json", args.threads, "words")
            rows.append({"run": peer, "round": r + 1, "wall s": wall, "WER": wer(long_refs, texts), "jobs": 1})
            print(f"long-form round {r + 1}: {peer}: {wall:.1f} s", flush=True)
        print(f"\nlong-form corpus (benchmarks/peer_workflow.py): {len(long_refs)} files, about {args.long_minutes:g} min of speech")
        print(compare(rows, peer).to_string(float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
