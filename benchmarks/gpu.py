"""FireRedASR-AED on a GPU: parity with the official code, half-precision agreement, speed.

One command on a machine with PyTorch and CUDA (no network needed; under 8 minutes on one
H100/H200-class GPU with the defaults):

    python benchmarks/gpu.py

It prints three tables, each measured side by side in this one run:

1. **Parity**: our engine in fp32 on the device against the official code (PyPI
   ``fireredasr`` 0.0.2) on the device and on the CPU: a small random model that ends its
   hypotheses at varied lengths, beam 1 and 3, clips decoded alone and batched.
2. **Half precision**: the share of decoded tokens equal to fp32's, position by position,
   for fp16 and bf16, on the full-size AED-L (random weights) and on the small model.
3. **Speed**: audio to tokens (features included), the official code in fp32 and ours in
   each precision, for ``--batches`` x ``--seconds`` s and 1 x ``--long`` s, beam 3,
   ``--tokens-per-second`` decoding steps per audio second (a random model never emits EOS:
   every engine decodes exactly that many steps), with peak GPU memory and the memory
   model's prediction (``firescribe.engines.fireredasr.memory``). Per precision, ours with each lever
   of issue 28 (``--levers``): ``eager`` (today's decoder, features by kaldi-native-fbank on
   the CPU), ``static`` (the fixed-shape step), ``graph`` (that step as a CUDA graph),
   ``graph+feats`` (and the filterbank in torch on the device). Each engine runs all its
   cells before the next (the riskiest last), each in its own try/except: a crash costs
   its own cells, not the run.
4. **Features**: kaldi-native-fbank on the CPU against the torch filterbank on the device,
   time and max difference, for the speed table's shapes.

The full-size AED-L (1.14 B parameters, random weights in the official format: compute does
not depend on weight values) is built once under ``--out``. A GPU machine without network
needs these wheels beside the project (about 2.5 MB; run here, for the device's Python):

    pip download --no-deps -d .whl --python-version 3.X --only-binary=:all: \\
        kaldi-native-fbank kaldiio sentencepiece fireredasr==0.0.2
    # then on the GPU machine, in the project folder:
    pip install --no-deps .whl/*.whl && PYTHONPATH=src python benchmarks/gpu.py

On a CPU the same script runs in a small mode (the tests run it so, so that it cannot rot):

    python benchmarks/gpu.py --device cpu --size small --batches 1 2 --seconds 2 --long 3 --parity-seconds 1.3 1.9
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fireredasr_engine import synth_audio  # noqa: E402
from support import official  # noqa: E402  (the official code, and checkpoint building)

from firescribe.engines.fireredasr.beam_search import BeamParams  # noqa: E402
from firescribe.engines.fireredasr.loader import LoadedModel, load_model_dir  # noqa: E402
from firescribe.engines.fireredasr.memory import unit_bytes  # noqa: E402
from firescribe.engines.fireredasr.precision import DTYPES, to_precision  # noqa: E402

LEVERS = ("eager", "static", "graph", "graph+feats")

WARMUP_SECONDS = 2.0
# how much the small parity model favours EOS: on this script's synthetic clips it ends its
# hypotheses after 7-46 tokens (the tests' default, 5, never ends on them before max_len)
PARITY_EOS_BOOST = 9.0


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def peak_reset(device: str) -> None:
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()


def peak(device: str) -> str:
    """Peak GPU memory since the last reset (nothing on the CPU)."""
    return f" {torch.cuda.max_memory_allocated() / 2**30:>5.1f} GB" if device == "cuda" else ""


class Ours:
    """Our engine in one precision on one device, from audio arrays to token lists; ``lever``
    (LEVERS): the decoding step (``eager``, ``static``, ``graph``) and where the features are
    computed (``+feats``: torch on the device, else kaldi-native-fbank on the CPU)."""

    def __init__(self, loaded: LoadedModel, precision: str, device: str, lever: str = "eager", model=None):
        self.loaded, self.device, self.dtype, self.precision = loaded, device, DTYPES[precision], precision
        self.mode, self.device_features = lever.split("+")[0], lever.endswith("+feats")
        if model is None:
            model = to_precision(copy.deepcopy(loaded.model) if precision != "fp32" else loaded.model, precision, device)
        self.model = model

    def __call__(self, audios: list[np.ndarray], params: BeamParams) -> list[list[int]]:
        if self.device_features:
            feats, lengths = self.loaded.features.device_batch(audios, self.device)
        else:
            feats, lengths = self.loaded.features.batch(audios)
        hyps = self.model.transcribe(feats.to(self.device, self.dtype), lengths.to(self.device), params, decoder_mode=self.mode)
        return [h[0].tokens for h in hyps]

    def predicted_gb(self, batch: int, seconds: float, beam: int) -> float:
        weights = sum(p.numel() * p.element_size() for p in self.model.parameters())
        return (weights + batch * unit_bytes(self.model.cfg, self.precision, beam, seconds)) / 2**30


class Official:
    """The official FireRedASR-AED (fp32) on one device, from WAV files to token lists."""

    def __init__(self, model_dir: Path, device: str):
        self.asr, self.device = official.official_asr(model_dir), device
        self.asr.model.to(device)

    def __call__(self, wavs: list[Path], params: BeamParams) -> list[list[int]]:
        feats, lengths, _ = self.asr.feat_extractor([str(w) for w in wavs])
        with torch.no_grad():
            hyps = self.asr.model.transcribe(
                feats.to(self.device), lengths.to(self.device), params.beam_size, params.nbest, params.decode_max_len,
                params.softmax_smoothing, params.length_penalty, params.eos_penalty,
            )
        return [h[0]["yseq"].tolist() for h in hyps]


def clips(folder: Path, seconds: list[float], seed: int = 0) -> tuple[list[np.ndarray], list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    wavs = [folder / f"clip_{seed + i}_{s:g}s.wav" for i, s in enumerate(seconds)]
    return [synth_audio(s, w, seed=seed + i) for i, (s, w) in enumerate(zip(seconds, wavs))], wavs


def agreement(a: list[list[int]], b: list[list[int]]) -> float:
    """Share of b's tokens that a has at the same position."""
    total = sum(len(t) for t in b)
    return sum(x == y for ta, tb in zip(a, b) for x, y in zip(ta, tb)) / total if total else 1.0


def parity(model_dir: Path, device: str, seconds: list[float], out: Path) -> None:
    audios, wavs = clips(out / "parity", seconds)
    loaded = load_model_dir(model_dir)
    ours = Ours(loaded, "fp32", device)
    refs = {d: Official(model_dir, d) for d in dict.fromkeys([device, "cpu"])}
    same, lengths = {d: 0 for d in refs}, set()
    levers = {lever: 0 for lever in LEVERS[1:]}  # each lever's tokens against eager's (ours fp32 on the device)
    decodes = [(beam, which) for beam in (1, 3) for which in [[i] for i in range(len(audios))] + [list(range(len(audios)))]]
    for beam, which in decodes:
        params = BeamParams(beam_size=beam, softmax_smoothing=1.25, length_penalty=0.6)
        got = ours([audios[i] for i in which], params)
        lengths |= {len(t) for t in got}
        for d, ref in refs.items():
            same[d] += got == ref([wavs[i] for i in which], params)
        for lever in levers:
            try:
                levers[lever] += got == Ours(loaded, "fp32", device, lever, model=ours.model)([audios[i] for i in which], params)
            except Exception as exc:  # noqa: BLE001 - one lever's crash must not cost the run
                print(f"   {lever}: {type(exc).__name__}: {str(exc)[:300]}")
    print(f"\n1. Parity, small random model, {len(decodes)} decodes (beam 1 and 3; each clip alone, then all batched; hypothesis lengths {min(lengths)}-{max(lengths)})")
    for d in refs:
        print(f"   ours fp32 on {device} = official on {d}: {same[d]}/{len(decodes)}")
    for lever, n in levers.items():
        print(f"   ours fp32 {lever} = ours fp32 eager on {device}: {n}/{len(decodes)}")


def half_agreement(models: dict[str, LoadedModel], precisions: list[str], device: str, seconds: float, steps_per_s: float, out: Path) -> None:
    halves = [p for p in precisions if p != "fp32"]
    if not halves:
        return
    print(f"\n2. Half precision on {device}: decoded tokens equal to fp32's, position by position (beam 3)")
    for name, loaded in models.items():
        audios, _ = clips(out / "agree", [seconds] * 4, seed=10)
        fixed = name != "small"  # the random full-size model never ends: fixed-length decoding
        params = BeamParams(beam_size=3, decode_max_len=int(seconds * steps_per_s) if fixed else 0)
        want = Ours(loaded, "fp32", device)(audios, params)
        cells = [f"{p} {100 * agreement(Ours(loaded, p, device)(audios, params), want):.1f}%" for p in halves]
        print(f"   {name}: 4 x {seconds:g} s, {sum(len(t) for t in want)} tokens: " + ", ".join(cells))


def speed(model_dir: Path, loaded: LoadedModel, precisions: list[str], args, out: Path) -> None:
    device = args.device
    engines: dict[str, object] = {} if args.skip_official else {"official fp32": lambda: Official(model_dir, device)}
    models: dict[str, object] = {}  # one converted model per precision, shared by its levers

    def ours(p: str, lever: str):
        def make():
            if p not in models:
                models[p] = Ours(loaded, p, device).model
            return Ours(loaded, p, device, lever, model=models[p])
        return make

    # the levers most likely to crash (CUDA graphs) run last: a broken CUDA context then costs only them
    for lever in args.levers:
        engines |= {f"ours {p} {lever}": ours(p, lever) for p in precisions}
    warm_audio, warm_wav = clips(out / "speed", [WARMUP_SECONDS], seed=99)
    shapes = [(b, args.seconds) for b in args.batches] + [(1, args.long)]
    data = {(b, s): clips(out / "speed", [s] * b, seed=1000 + b) for b, s in shapes}
    print(f"\n3. Speed on {device}: audio to tokens (features included), beam {args.beam}, {args.tokens_per_second:g} steps per audio second, fixed length")
    print("   (wall seconds; on a GPU: peak memory / the memory model's prediction, GB); engine by engine as measured:", flush=True)
    cells: dict[tuple[str, tuple], str] = {}
    errors: dict[str, str] = {}
    for name, make in engines.items():
        try:
            run = make()
            # first-touch page faults, kernel selection, allocator, a first graph capture
            run(warm_wav if name.startswith("official") else warm_audio, BeamParams(beam_size=args.beam, decode_max_len=4))
        except Exception as exc:  # noqa: BLE001 - one engine's crash must not cost the run
            errors[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
            print(f"   {name}: failed to start: {errors[name]}", flush=True)
            continue
        for shape in shapes:
            batch, seconds = shape
            audios, wavs = data[shape]
            params = BeamParams(beam_size=args.beam, decode_max_len=int(round(seconds * args.tokens_per_second)))
            try:
                sync(device)
                peak_reset(device)
                t = time.perf_counter()
                tokens = run(wavs if name.startswith("official") else audios, params)
                sync(device)
                dt = time.perf_counter() - t
                assert all(len(x) == params.decode_max_len for x in tokens), f"{name}: expected {params.decode_max_len} steps"
                memory = ""
                if device == "cuda":
                    predicted = f"/{run.predicted_gb(batch, seconds, args.beam):.1f}" if hasattr(run, "predicted_gb") else ""
                    memory = f" {torch.cuda.max_memory_allocated() / 2**30:.1f}{predicted}"
                cells[name, shape] = f"{dt:.2f} s{memory}"
            except Exception as exc:  # noqa: BLE001
                errors[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
                cells[name, shape] = "error"
            print(f"   {name:>24} {batch:>3} x {seconds:>3g} s: {cells[name, shape]}", flush=True)
            if name in errors:
                break
        del run
        if device == "cuda":
            torch.cuda.empty_cache()
    print(f"\n   {'units':>10} " + " ".join(f"{n:>24}" for n in engines))
    for batch, seconds in shapes:
        print(f"   {batch:>3} x {seconds:>3g} s " + " ".join(f"{cells.get((n, (batch, seconds)), '-'):>24}" for n in engines), flush=True)
    for name, error in errors.items():
        print(f"   {name}: {error}")


def features(loaded: LoadedModel, args, out: Path) -> None:
    """kaldi-native-fbank on the CPU (today's path) against the torch filterbank on the device."""
    device = args.device
    print(f"\n4. Features: kaldi-native-fbank on the CPU vs torch on {device} (to the device, padded, CMVN)")
    for batch, seconds in [(b, args.seconds) for b in args.batches] + [(1, args.long)]:
        try:
            audios, _ = clips(out / "speed", [seconds] * batch, seed=1000 + batch)
            loaded.features.device_batch(audios[:1], device)  # warm-up
            t = time.perf_counter()
            want, _ = loaded.features.batch(audios)
            want = want.to(device)
            sync(device)
            t_knf = time.perf_counter() - t
            t = time.perf_counter()
            got, _ = loaded.features.device_batch(audios, device)
            sync(device)
            t_torch = time.perf_counter() - t
            diff = float((got - want).abs().max())
            print(f"   {batch:>3} x {seconds:>3g} s: knf {t_knf:.3f} s, torch {t_torch:.3f} s, max abs diff {diff:.1e}", flush=True)
        except Exception as exc:  # noqa: BLE001
            print(f"   {batch:>3} x {seconds:>3g} s: {type(exc).__name__}: {str(exc)[:300]}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--size", choices=["aed-l", "small"], default="aed-l", help="the model of the speed table")
    ap.add_argument("--precisions", nargs="+", default=["fp32", "fp16", "bf16"], choices=list(DTYPES))
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32, 64])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each unit in the batches")
    ap.add_argument("--long", type=float, default=60.0, help="length of the single long unit")
    ap.add_argument("--parity-seconds", type=float, nargs="+", default=[1.3, 2.7, 4.1, 3.4, 1.9], help="clip lengths of the parity table (varied padding)")
    ap.add_argument("--beam", type=int, default=3)
    ap.add_argument("--tokens-per-second", type=float, default=4.0)
    ap.add_argument("--skip-official", action="store_true", help="time ours only")
    ap.add_argument("--levers", nargs="+", default=list(LEVERS), choices=LEVERS, help="our engine's variants in the speed table")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "gpu")
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device: run with --device cpu (small mode) or on a GPU machine")

    t0 = time.time()
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    small_dir = args.out / "random-small"
    if not (small_dir / "model.pth.tar").exists():
        official.make_model_dir(small_dir, eos_boost=PARITY_EOS_BOOST)
    parity(small_dir, args.device, args.parity_seconds, args.out)

    models = {"small": load_model_dir(small_dir)}
    model_dir = small_dir
    if args.size == "aed-l":
        model_dir = args.out / "random-aed-l"
        if not (model_dir / "model.pth.tar").exists():
            t = time.time()
            official.make_model_dir(model_dir, size=official.AED_L, logit_std=None)
            print(f"\n(built the random AED-L checkpoint in {time.time() - t:.0f} s)")
        models = {"AED-L": load_model_dir(model_dir)} | models
    half_agreement(models, args.precisions, args.device, args.seconds, args.tokens_per_second, args.out)
    if args.size == "small":  # the speed table's model decodes a fixed number of steps
        model_dir = args.out / "random-small-fixed"
        if not (model_dir / "model.pth.tar").exists():
            official.make_model_dir(model_dir, logit_std=None)
    speed_model = load_model_dir(model_dir)
    speed(model_dir, speed_model, args.precisions, args, args.out)
    features(speed_model, args, args.out)
    print(f"\n(whole run {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
