"""Our FireRedASR-AED engine against the official code, side by side, on a full-size AED-L.

Builds (once, cached) a random-weight checkpoint of the real architecture in the official
format (16+16 layers, d_model 1280, 20 heads, vocab 7832, 1.14 B parameters; compute cost
does not depend on weight values), then for each input length runs both engines from
audio to hypotheses with the same parameters: beam 3, a fixed number of decoding steps
(tokens per audio second; the untrained model never emits EOS, so both decode exactly that
many steps), the same thread count. Prints wall time, RTF, the speed ratio and whether the
hypotheses are identical.

    python benchmarks/fireredasr_engine.py --lengths 10 30 60 --threads 2
"""

from __future__ import annotations

import argparse
import sys
import time
import wave
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import official  # noqa: E402  (the official code, and checkpoint building)

from firescribe.engines.fireredasr.beam_search import BeamParams  # noqa: E402
from firescribe.engines.fireredasr.loader import load_model_dir  # noqa: E402
from firescribe.engines.fireredasr.ort import OnnxAed  # noqa: E402
from firescribe.engines.fireredasr.precision import to_precision  # noqa: E402
from firescribe.steps.prepare_model import prepare  # noqa: E402


def synth_audio(seconds: float, path: Path, seed: int = 0) -> np.ndarray:
    """Speech-like test signal (harmonics with a wandering pitch, syllable envelope), int16 WAV."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / 16000
    x = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)
    x = x + 0.05 * rng.standard_normal(len(t))
    pcm = (x / np.abs(x).max() * 12000).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    return pcm.astype(np.float32) / 32768.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lengths", type=float, nargs="+", default=[10, 30, 60])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam", type=int, default=3)
    ap.add_argument("--tokens-per-second", type=float, default=4.0)
    ap.add_argument("--size", choices=["aed-l", "small"], default="aed-l")
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--skip-official", action="store_true", help="time ours only")
    ap.add_argument("--batch", type=int, default=8, help="also time ours on this many units decoded together (as the workflow batches)")
    ap.add_argument(
        "--precisions", nargs="+", default=["fp32", "int8", "onnx-fp32", "onnx-int8"], choices=["fp32", "int8", "onnx-fp32", "onnx-int8"], help="our engine's variants to time (torch fp32/int8, ONNX Runtime fp32/int8)"
    )
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    size = official.AED_L if args.size == "aed-l" else official.SMALL
    model_dir = args.model_dir or ROOT / "benchmarks" / "out" / f"random-{args.size}"
    if not (model_dir / "model.pth.tar").exists():
        t = time.time()
        official.make_model_dir(model_dir, size=size, logit_std=None)
        print(f"built random {args.size} checkpoint in {time.time() - t:.0f} s: {model_dir}", flush=True)

    t = time.time()
    ours = load_model_dir(model_dir)
    load_ours = time.time() - t
    n_params = sum(p.numel() for p in ours.model.parameters())
    ref = None
    if not args.skip_official:
        t = time.time()
        ref = official.official_asr(model_dir)
        load_ref = time.time() - t
    print(f"model: {n_params / 1e9:.3f} B parameters; load: ours {load_ours:.1f} s (mmap)" + (f", official {load_ref:.1f} s" if ref else ""))
    print(f"threads {args.threads}, beam {args.beam}, {args.tokens_per_second:g} decoding steps per audio second\n", flush=True)

    variants = {}
    for p in args.precisions:
        t = time.time()
        if p.startswith("onnx"):
            # what the workflow's prepare_model step does, cached beside the checkpoint
            variant, prepared = f"onnxruntime-{p[5:]}", model_dir.parent / f"prepared-{args.size}" / f"onnxruntime-{p[5:]}"
            if not (prepared / "manifest.json").exists():
                prepare(model_dir, prepared, variant)
            variants[p] = OnnxAed(prepared, ours.model.cfg, args.threads)
        else:
            variants[p] = to_precision(ours.model if p == "fp32" else load_model_dir(model_dir).model, p)
        print(f"prepared {p} in {time.time() - t:.1f} s", flush=True)
    print()
    # warm-up: one short decode per engine, so no timing below includes first-touch page
    # faults of memory-mapped weights or one-time allocations
    tmp = model_dir.parent / "audio"
    tmp.mkdir(exist_ok=True)
    warm = synth_audio(2.0, tmp / "warmup.wav")
    for model in variants.values():
        model.transcribe(*ours.features.batch([warm]), BeamParams(beam_size=args.beam, nbest=1, decode_max_len=4))
    if ref is not None:
        with torch.no_grad():
            ref.model.transcribe(*ref.feat_extractor([str(tmp / "warmup.wav")])[:2], args.beam, 1, 4, 1.0, 0.0, 1.0)
    cols = [f"{'audio s':>8}", f"{'steps':>6}", f"{'official RTF':>13}"]
    cols += [f"{p + ' RTF':>9} {'x':>6}" for p in variants]
    cols += [f"{'fp32 = official':>16}"] + [f"{p + ' tokens = fp32':>20}" for p in variants if p != "fp32"]
    print(" ".join(cols))
    for seconds in args.lengths:
        wav = tmp / f"bench_{seconds:g}s.wav"
        audio = synth_audio(seconds, wav)
        steps = int(round(seconds * args.tokens_per_second))
        params = BeamParams(beam_size=args.beam, nbest=1, decode_max_len=steps)

        times, hyps = {}, {}
        for name, model in variants.items():
            t = time.time()
            feats, lengths = ours.features.batch([audio])
            hyps[name] = model.transcribe(feats, lengths, params)[0][0].tokens
            times[name] = time.time() - t
            assert len(hyps[name]) == steps, f"expected {steps} decoded tokens (no EOS), got {len(hyps[name])}"

        t_ref, same = float("nan"), "-"
        if ref is not None:
            t = time.time()
            rfeats, rlengths, _ = ref.feat_extractor([str(wav)])
            with torch.no_grad():
                rhyp = ref.model.transcribe(rfeats, rlengths, args.beam, 1, steps, 1.0, 0.0, 1.0)[0][0]["yseq"].tolist()
            t_ref = time.time() - t
            same = "yes" if rhyp == hyps.get("fp32") else "NO"
        cells = [f"{seconds:>8g}", f"{steps:>6}", f"{t_ref / seconds:>13.2f}"]
        cells += [f"{times[p] / seconds:>9.3f} {t_ref / times[p]:>5.1f}x" for p in variants]
        cells += [f"{same:>16}"]
        for p in variants:
            if p != "fp32" and "fp32" in hyps:  # share of decoded tokens equal to fp32's
                agree = np.mean([a == b for a, b in zip(hyps[p], hyps["fp32"])])
                cells.append(f"{100 * agree:>19.0f}%")
        print(" ".join(cells), flush=True)
    print("(x = speed-up over the official code; RTF = wall seconds per audio second, features + encoder + beam search)")

    if args.batch > 1:
        # decoding is memory-bound for one utterance (every step reads all decoder weights);
        # batching units shares each weight read across utterances and beams
        seconds = args.lengths[0]
        audios = [synth_audio(seconds, tmp / f"batch_{i}.wav", seed=i) for i in range(args.batch)]
        steps = int(round(seconds * args.tokens_per_second))
        print()
        for name, model in variants.items():
            t = time.time()
            feats, lengths = ours.features.batch(audios)
            out = model.transcribe(feats, lengths, BeamParams(beam_size=args.beam, nbest=1, decode_max_len=steps))
            dt = time.time() - t
            assert all(len(h[0].tokens) == steps for h in out)
            print(f"ours {name}, {args.batch} x {seconds:g} s units in one batch: {dt:.1f} s, RTF {dt / (seconds * args.batch):.3f}")


if __name__ == "__main__":
    main()
