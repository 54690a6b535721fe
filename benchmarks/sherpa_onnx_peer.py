"""Our FireRedASR-AED engine against sherpa-onnx's FireRedASR recognizer, side by side.

The full-size random AED-L (benchmarks/aed_l.py; compute does not depend on weight values)
is exported once into the format sherpa-onnx reads (benchmarks/sherpa_format.py: its
released model's interface, fp32 and its int8 scheme). On the same audio, at the same
thread count, each engine runs from samples to tokens (features, encoder, search): sherpa-onnx's
``OfflineRecognizer`` (C++ on its bundled onnxruntime; greedy search, one utterance at a
time), and ours at beam 1 (greedy) - torch fp32 (the exact engine), ONNX Runtime fp32 and
int8. The untrained model never emits EOS, so every engine decodes exactly as many steps as
sherpa-onnx allows (8 per second of audio). Then ours at beam 3, our default, against greedy.
Prints RTF per engine and length, ratios, and whether tokens equal torch fp32's.

    python benchmarks/sherpa_onnx_peer.py --lengths 10 30 60 --threads 2
"""

from __future__ import annotations

import argparse
import gc
import time

import aed_l
import numpy as np
import sherpa_format
import torch
from fireredasr_engine import synth_audio

from firescribe.engines.fireredasr.beam_search import BeamParams

OUT = aed_l.MODEL_DIR.parent
SHERPA = {"sherpa fp32": OUT / "sherpa-aed-l" / "fp32", "sherpa int8": OUT / "sherpa-aed-l" / "int8"}
OURS = {"ours fp32": "fp32", "ours onnx fp32": "onnx-fp32", "ours onnx int8": "onnx-int8"}
PAIRS = [("ours fp32", "sherpa fp32"), ("ours onnx fp32", "sherpa fp32"), ("ours onnx int8", "sherpa int8")]


def sherpa_models(loaded) -> None:
    """The sherpa-onnx folders, exported on first use."""
    fp32, int8 = SHERPA.values()
    if not (fp32 / sherpa_format.TOKENS).exists():
        t = time.time()
        sherpa_format.export_sherpa(loaded.model, aed_l.MODEL_DIR, fp32)
        print(f"exported the sherpa-onnx fp32 graphs in {time.time() - t:.0f} s", flush=True)
    if not (int8 / sherpa_format.TOKENS).exists():
        t = time.time()
        sherpa_format.quantize_sherpa(fp32, int8)
        print(f"quantized them to int8 in {time.time() - t:.0f} s", flush=True)


def timed(run, audios: dict[float, np.ndarray]) -> tuple[dict[float, float], dict[float, list[int]]]:
    """Wall seconds and tokens of ``run(audio)`` per length, after a 2 s warm-up decode
    (first touch of memory-mapped weights, one-time allocations)."""
    run(audios[min(audios)][: 2 * 16000])
    times, tokens = {}, {}
    for seconds, audio in audios.items():
        t = time.time()
        tokens[seconds] = run(audio)
        times[seconds] = time.time() - t
    return times, tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lengths", type=float, nargs="+", default=[10, 30, 60])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam", type=int, default=3, help="our beam size to compare with greedy (our default: 3)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    loaded, _ = aed_l.load([], args.threads)
    sherpa_models(loaded)
    tmp = OUT / "audio"
    tmp.mkdir(exist_ok=True)
    audios = {s: synth_audio(s, tmp / f"bench_{s:g}s.wav") for s in args.lengths}
    steps = {s: sherpa_format.greedy_steps(len(a)) for s, a in audios.items()}
    token_ids = {line.split()[0]: int(line.split()[1]) for line in (aed_l.MODEL_DIR / "dict.txt").open(encoding="utf-8")}
    print(f"AED-L, {args.threads} threads; decoding steps per length: {steps}\n", flush=True)

    def ours(model, beam: int):
        def run(audio: np.ndarray) -> list[int]:
            n = sherpa_format.greedy_steps(len(audio))
            feats, lengths = loaded.features.batch([audio])
            return model.transcribe(feats, lengths, BeamParams(beam_size=beam, nbest=1, decode_max_len=n))[0][0].tokens

        return run

    times, tokens = {}, {}
    # one engine in memory at a time (each holds its own copy of the weights)
    for name in ["sherpa fp32", "ours fp32", "ours onnx fp32", "sherpa int8", "ours onnx int8"]:
        if name in SHERPA:
            rec = sherpa_format.recognizer(SHERPA[name], args.threads)
            times[name], tokens[name] = timed(lambda a: sherpa_format.decode(rec, a, token_ids), audios)
            del rec
        else:
            model = aed_l.variant(loaded, OURS[name], args.threads)
            times[name], tokens[name] = timed(ours(model, 1), audios)
            if args.beam > 1 and name in ("ours fp32", "ours onnx int8"):
                beam_name = f"{name} beam {args.beam}"
                times[beam_name], tokens[beam_name] = timed(ours(model, args.beam), audios)
            del model
        gc.collect()
        print(f"{name}: " + ", ".join(f"{s:g} s in {t:.1f} s" for s, t in times[name].items()), flush=True)

    ref = tokens["ours fp32"]
    print(f"\n{'engine':<22}" + "".join(f"{f'RTF {s:g} s':>11}" for s in args.lengths) + f"{'tokens = ours fp32':>20}")
    for name in times:
        same = np.mean([np.mean([a == b for a, b in zip(tokens[name][s], ref[s])]) for s in args.lengths])
        print(f"{name:<22}" + "".join(f"{times[name][s] / s:>11.3f}" for s in args.lengths) + f"{100 * same:>19.1f}%")
    print("\nspeed ratio (peer time / ours; > 1: ours faster)")
    for a, b in PAIRS:
        print(f"{a + ' vs ' + b:<36}" + "".join(f"{times[b][s] / times[a][s]:>8.2f}x" for s in args.lengths))
    for name in ("ours fp32", "ours onnx int8"):
        beam_name = f"{name} beam {args.beam}"
        if beam_name in times:
            print(f"{beam_name + ' over greedy':<36}" + "".join(f"{times[beam_name][s] / times[name][s]:>8.2f}x" for s in args.lengths) + "  (time ratio)")
    exact = all(tokens["sherpa fp32"][s] == ref[s] for s in args.lengths)
    print(f"\nsherpa-onnx fp32 tokens identical to ours (torch fp32): {'yes' if exact else 'NO'}")


if __name__ == "__main__":
    main()
