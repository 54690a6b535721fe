"""What hotwords cost FireRedASR-AED's beam search: 10, 1,000 and 10,000 hotwords against none,
on the full-size AED-L (random weights, 1.14 B parameters; compute does not depend on weight
values), beam 3, torch fp32 and ONNX Runtime int8 (the fastest step, so the largest share
for the bias), the same batches taking turns in one run.

Hotwords: random Chinese words of 2-4 characters from the model's vocabulary (a realistic
list: many share their first characters). A batch is four 10 s units of synthesized speech;
the untrained model never emits EOS, so each decode runs ``--tokens-per-second`` x 10 steps.
Also printed: the time to compile each list (tokenize + build the automaton, once per job),
and the bias work alone (the bonus matrix and the state updates of the same number of steps
and hypotheses, on hypotheses that follow the hotwords), which run-to-run noise cannot hide.

    python benchmarks/hotwords.py --threads 2 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import aed_l  # noqa: E402
from support import media  # noqa: E402

from firescribe.engines.backends.fireredasr import compile_hotwords  # noqa: E402
from firescribe.engines.fireredasr.beam_search import BeamParams  # noqa: E402
from firescribe.engines.fireredasr.loader import OPTIONAL_FILES  # noqa: E402
from firescribe.plumbing.pcm import open_pcm  # noqa: E402
from firescribe.text.hotwords import Hotword  # noqa: E402

UNIT_S, UNITS = 10.0, 4
WEIGHT = 1.5  # the default hotword_weight


def random_hotwords(n: int, tokens: list[str], seed: int = 0) -> list[Hotword]:
    """``n`` distinct words of 2-4 Chinese characters; first characters drawn from a smaller
    set so that, as in real lists, words share prefixes."""
    rng = np.random.default_rng(seed)
    chars = [t for t in tokens if len(t) == 1 and "\u4e00" <= t <= "\u9fff"]
    firsts = chars[: max(50, n // 10)]
    words: set[str] = set()
    while len(words) < n:
        length = int(rng.integers(2, 5))
        words.add(firsts[rng.integers(len(firsts))] + "".join(chars[i] for i in rng.integers(len(chars), size=length - 1)))
    return [Hotword(w) for w in sorted(words)]


def bias_seconds(context, rows: int, steps: int, vocab: int, eos: int) -> float:
    """The bias work of one decode alone: ``steps`` bonus matrices for ``rows`` hypotheses and
    their state updates, each hypothesis spelling hotwords (deep states, the costly case)."""
    def spelling(i: int) -> list[int]:  # the tokens from the root to node i
        return spelling(context.nodes[i].parent) + [context.nodes[i].token] if i else []

    words = [spelling(i) for i, node in enumerate(context.nodes) if node.end_score > 0]
    walks = [[t for w in words[r % len(words) :] + words[: r % len(words)] for t in w] for r in range(rows)]
    states = [0] * rows
    t = time.perf_counter()
    for step in range(steps):
        context.bonus(states, eos, torch.device("cpu"), torch.float32)
        states = context.advance(states, [w[step % len(w)] for w in walks])
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--beam", type=int, default=3)
    ap.add_argument("--tokens-per-second", type=float, default=4.0)
    ap.add_argument("--counts", type=int, nargs="+", default=[10, 1000, 10000])
    ap.add_argument("--variants", nargs="+", default=list(aed_l.VARIANTS), choices=aed_l.VARIANTS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    loaded, variants = aed_l.load(args.variants, args.threads)

    tmp = Path(tempfile.mkdtemp(prefix="firescribe-hotword-bench-"))
    sentences, pauses = media.script(3, UNIT_S * UNITS + 5, media.PAUSE_FREE)
    media.speech_track(sentences, pauses, tmp / "talk.wav")
    pcm = open_pcm(tmp / "talk.wav")
    n = int(UNIT_S * 16000)
    feats, lengths = loaded.features.batch([pcm[i * n : (i + 1) * n] for i in range(UNITS)])
    params = BeamParams(beam_size=args.beam, nbest=1, decode_max_len=int(args.tokens_per_second * UNIT_S))

    contexts = {0: None}
    spm = aed_l.MODEL_DIR / OPTIONAL_FILES[0]
    print(f"AED-L random, beam {args.beam}, {UNITS} x {UNIT_S:g} s units per batch, {params.decode_max_len} steps, {args.threads} threads")
    for count in args.counts:
        words = random_hotwords(count, loaded.tokens.id2token)
        t = time.perf_counter()
        contexts[count], used = compile_hotwords(words, loaded.tokens, spm, WEIGHT)
        print(f"  {count:>6} hotwords: compiled in {time.perf_counter() - t:.3f} s ({used} used, {len(contexts[count])} states)")

    for vname, model in variants.items():
        model.transcribe(feats, lengths, params)  # warm-up: the first full decode also sizes the allocators
        walls: dict[int, list[float]] = {c: [] for c in contexts}
        for _ in range(args.repeats):  # configurations take turns
            for count, context in contexts.items():
                t = time.perf_counter()
                model.transcribe(feats, lengths, params, context=context)
                walls[count].append(time.perf_counter() - t)
        base = statistics.median(walls[0])
        for count, w in walls.items():
            wall = statistics.median(w)
            bias = bias_seconds(contexts[count], UNITS * args.beam, params.decode_max_len, len(loaded.tokens), loaded.model.cfg.eos_id) if count else 0.0
            print(
                f"{vname:>10} | {count:>6} hotwords | {wall:7.2f} s (median of {len(w)}) | x{wall / base:.3f} vs none"
                f" | bias work alone {bias * 1000:6.1f} ms = {100 * bias / base:.2f}% of the decode",
                flush=True,
            )


if __name__ == "__main__":
    main()
