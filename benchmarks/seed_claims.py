"""Our user's speed-up plan, lever by lever, measured on one recording.

Their starting point: the official FireRedASR code decoding each silero-VAD segment (1000 ms
minimum speech, 30 s maximum) with 2 worker threads, beam 3. Their plan promised, step by
step: 2-3x from ``max_workers = 8``; 3-5x from batching segments with VAD at 2000 ms minimum
speech / 60 s maximum; 6-8x with processes, prefetch and memory-mapped weights; 10-12x with
ONNX Runtime and INT8. Here each lever runs alone on top of the starting point, as the plan
describes it, then all four together, then firescribe's defaults (its VAD, units and batches;
torch fp32, which equals the official code, and ONNX Runtime int8):

- ``workers 8``: 8 worker threads instead of 2.
- ``batch + VAD 2 s/60 s``: VAD at 2000 ms / 60 s; segments decoded 4 per batch.
- ``processes + prefetch + mmap``: one worker process per core (1 thread each), each loading
  the weights memory-mapped (shared in the page cache) and computing the next batch's
  features while it decodes; process start and model load are counted.
- ``ONNX Runtime int8``: each segment decoded by ONNX Runtime int8 graphs (ours: the
  official code has none), same beam.
- ``all four levers``: VAD 2 s / 60 s, batches of 4, one process per core each running
  ONNX Runtime int8 (processes take the place of the 8 threads).

Model: the full-size random AED-L (benchmarks/aed_l.py); it never emits EOS, so every
decode runs a fixed 4 steps per second of its longest utterance (Mandarin's speaking rate),
in every configuration. Media: espeak-ng speech with pauses of 0.2-1.5 s. Wall time
includes VAD, features, writing segment WAVs where the official code needs them, and
decoding; the model load too, except the starting point's one model in memory.

    python benchmarks/seed_claims.py --seconds 60
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import aed_l
import numpy as np
import torch
from support import media, official

from firescribe.engines.fireredasr.beam_search import BeamParams
from firescribe.engines.silero import VadParams, detect_speech
from firescribe.plumbing.pcm import open_pcm, read_span
from firescribe.settings import default_settings
from firescribe.steps.plan import make_batches, plan_audio, unit_seconds

BEAM = 3
TOKENS_PER_S = 4.0
THEIR_VAD = VadParams(threshold=0.5, min_speech_ms=1000, min_silence_ms=100, speech_pad_ms=30, max_speech_s=30.0)  # silero defaults, their limits
LEVER_VAD = replace(THEIR_VAD, min_speech_ms=2000, max_speech_s=60.0)
PROMISED = {"workers 8": "2-3x", "batch + VAD 2 s/60 s": "3-5x", "processes + prefetch + mmap": "6-8x", "ONNX Runtime int8": "10-12x"}


def steps(audios: list[np.ndarray]) -> int:
    return int(round(max(len(a) for a in audios) / 16000 * TOKENS_PER_S))


def segments(pcm: np.ndarray, vad: VadParams) -> list[np.ndarray]:
    return [read_span(pcm, a, b) for a, b in detect_speech(pcm, vad)]


def batches_of(audios: list[np.ndarray], size: int) -> list[list[np.ndarray]]:
    return [audios[i : i + size] for i in range(0, len(audios), size)]


class Official:
    """The official code as a user script drives it: segment WAVs, its feature extractor, its
    model's beam search."""

    def __init__(self, asr, tmp: Path):
        self.asr, self.tmp = asr, tmp

    def features(self, batch: list[np.ndarray]):
        paths = []
        for audio in batch:
            path = self.tmp / f"seg_{id(audio)}_{time.monotonic_ns()}.wav"
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(16000)
                w.writeframes(audio.tobytes())
            paths.append(str(path))
        feats, lengths, _ = self.asr.feat_extractor(paths)
        return feats, lengths, steps(batch)

    def decode(self, prepared) -> int:
        feats, lengths, n = prepared
        with torch.no_grad():
            hyps = self.asr.model.transcribe(feats, lengths, BEAM, 1, n, 1.0, 0.0, 1.0)
        return sum(len(h[0]["yseq"]) for h in hyps)

    def __call__(self, batch: list[np.ndarray]) -> int:
        return self.decode(self.features(batch))


class Ours:
    """Our engine (torch or ONNX Runtime) with the same interface: features, then decode."""

    def __init__(self, loaded, model):
        self.loaded, self.model = loaded, model

    def features(self, batch: list[np.ndarray]):
        return (*self.loaded.features.batch(batch), steps(batch))

    def decode(self, prepared) -> int:
        feats, lengths, n = prepared
        return sum(len(u[0].tokens) for u in self.model.transcribe(feats, lengths, BeamParams(beam_size=BEAM, nbest=1, decode_max_len=n)))

    def __call__(self, batch: list[np.ndarray]) -> int:
        return self.decode(self.features(batch))


def in_threads(run, batches: list, workers: int) -> int:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(run, batches))


def _process_worker(args) -> int:
    """One worker process: the official model with memory-mapped weights, 1 thread, the
    next batch's features computed while this one decodes."""
    batches, engine, model_dir, tmp = args
    torch.set_num_threads(1)
    model_dir = Path(model_dir)
    if engine == "official":
        package = torch.load(model_dir / "model.pth.tar", map_location="cpu", mmap=True, weights_only=False)
        model = official.FireRedAsrAed.from_args(package["args"])
        model.load_state_dict(package["model_state_dict"], assign=True)
        model.eval()
        run = Official(official.FireRedAsr("aed", official.ASRFeatExtractor(str(model_dir / "cmvn.ark")), model, None), Path(tmp))
    else:
        aed_l.MODEL_DIR = model_dir
        loaded, models = aed_l.load([engine], threads=1)
        run = Ours(loaded, models[engine])
    done = 0
    with ThreadPoolExecutor(max_workers=1) as prefetch:
        pending = prefetch.submit(run.features, batches[0]) if batches else None
        for i in range(len(batches)):
            prepared = pending.result()
            pending = prefetch.submit(run.features, batches[i + 1]) if i + 1 < len(batches) else None
            done += run.decode(prepared)
    return done


def in_processes(batches: list, processes: int, engine: str, tmp: Path) -> int:
    shares = [batches[i::processes] for i in range(processes)]
    with mp.get_context("spawn").Pool(processes) as pool:
        return sum(pool.map(_process_worker, [(share, engine, str(aed_l.MODEL_DIR), str(tmp)) for share in shares]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the generated recording")
    ap.add_argument("--cores", type=int, default=2, help="cores of this machine the runs may use")
    args = ap.parse_args()
    torch.set_num_threads(args.cores)  # a plain script's default: one intra-op thread per core

    with tempfile.TemporaryDirectory(prefix="seed-claims-") as tmp:  # the recording, segment WAVs
        run_all(args, Path(tmp))


def run_all(args: argparse.Namespace, tmp: Path) -> None:
    sentences, pauses = media.script(3, args.seconds, (0.2, 0.4, 0.7, 1.0, 1.5))
    wav = tmp / "talk.wav"
    media.speech_track(sentences, pauses, wav)
    pcm = open_pcm(wav)
    loaded, _ = aed_l.load([], args.cores)
    theirs = Official(official.official_asr(aed_l.MODEL_DIR), tmp)
    theirs([read_span(pcm, 0.0, 2.0)])  # warm-up: weights paged in, allocations made
    print(f"{len(pcm) / 16000:.0f} s recording; AED-L, beam {BEAM}, {TOKENS_PER_S:g} decoding steps per second; {args.cores} cores\n", flush=True)

    def official_run(vad: VadParams, batch: int, workers: int = 2, processes: int = 0, engine: str = "official") -> float:
        t = time.time()
        audios = segments(pcm, vad)
        batches = batches_of(audios, batch)
        done = in_processes(batches, processes, engine, tmp) if processes else in_threads(theirs, batches, workers)
        assert done >= sum(len(b) * steps(b) for b in batches), "every utterance decodes its fixed number of steps"
        return time.time() - t

    def onnx_int8_run() -> float:
        model = aed_l.variant(loaded, "onnx-int8", args.cores)
        t = time.time()
        for audio in segments(pcm, THEIR_VAD):
            feats, lengths = loaded.features.batch([audio])
            model.transcribe(feats, lengths, BeamParams(beam_size=BEAM, nbest=1, decode_max_len=steps([audio])))
        return time.time() - t

    def firescribe_run(variant: str) -> float:
        """firescribe's VAD, units and batches (its defaults for FireRedASR-AED v1) and engine."""
        settings = default_settings(backend="fireredasr-aed")
        model = aed_l.variant(loaded, variant, args.cores)
        t = time.time()
        units = plan_audio(pcm, detect_speech(pcm, settings.vad), settings.plan.for_model(word_times=False))
        audios = [np.concatenate([read_span(pcm, a, b) for a, b in unit]) for unit in units]
        for batch in make_batches([unit_seconds(u) for u in units], settings.asr.batch_seconds):
            feats, lengths = loaded.features.batch([audios[i] for i in batch])
            model.transcribe(feats, lengths, BeamParams(beam_size=BEAM, nbest=1, decode_max_len=steps([audios[i] for i in batch])))
        return time.time() - t

    runs = {
        "starting point": lambda: official_run(THEIR_VAD, batch=1),
        "workers 8": lambda: official_run(THEIR_VAD, batch=1, workers=8),
        "batch + VAD 2 s/60 s": lambda: official_run(LEVER_VAD, batch=4),
        "processes + prefetch + mmap": lambda: official_run(THEIR_VAD, batch=1, processes=args.cores),
        "ONNX Runtime int8": onnx_int8_run,
        # processes (each its own 1-thread ONNX Runtime int8 engine) replace the 8 threads
        "all four levers": lambda: official_run(LEVER_VAD, batch=4, processes=args.cores, engine="onnx-int8"),
        "firescribe fp32 (exact)": lambda: firescribe_run("fp32"),
        "firescribe ONNX int8": lambda: firescribe_run("onnx-int8"),
    }
    times = {}
    for name, run in runs.items():
        times[name] = run()
        print(f"{name}: {times[name]:.1f} s", flush=True)

    base = times["starting point"]
    print(f"\n{'configuration':<30}{'wall s':>8}{'RTF':>7}{'speed-up':>10}{'promised':>10}")
    for name, t in times.items():
        promised = PROMISED.get(name, "10-12x" if name == "all four levers" else "")
        print(f"{name:<30}{t:>8.1f}{t / (len(pcm) / 16000):>7.2f}{base / t:>9.1f}x{promised:>10}")
    print("(speed-up over the starting point; the plan's figures are cumulative: the last lever's is for all four)")


if __name__ == "__main__":
    main()
