"""What FireRedPunc costs: a BERT-base-sized random-weight FireRedPunc in the released layout
(chinese-lert-base's size: 12 layers, 768 wide; the vocabulary holds the text's characters,
and a lookup costs the same in a larger one), punctuating the
official example text (nopunc.txt, unpunctuated Mandarin ASR output) as the merge step does
(firescribe.text.punctuation.punctuate_segments: length-sorted batches). Prints characters per second and the seconds one hour of Mandarin speech costs
(at 5.2 characters per second of speech, Pellegrino et al. 2011).

    python benchmarks/punctuation.py --lines 800 --threads 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from support import punc_official  # noqa: E402

from firescribe.plumbing.threads import pin_threads  # noqa: E402
from firescribe.text.punctuation import FireRedPunc, PunctuationParams, punctuate_segments  # noqa: E402

CHARS_PER_SPEECH_S = 5.2  # Mandarin syllables (characters) per second of speech


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=800)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precisions", nargs="+", default=["fp32"], choices=["fp32", "int8"])
    ap.add_argument("--asr-minutes", type=float, default=0, help="also time the ASR of this much speech (AED-L ONNX int8)")
    args = ap.parse_args()
    if not punc_official.available():
        # its random model is built with the official class, and it punctuates the official example text
        raise SystemExit(f"benchmarks/punctuation.py {punc_official.MISSING}")
    pin_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="firescribe-punc-bench-"))
    model_dir = punc_official.make_punc_dir(tmp / "FireRedPunc", bert=punc_official.BERT_BASE, n_chinese=21000)
    lines = [x for x in punc_official.NOPUNC.read_text(encoding="utf-8").splitlines() if x.strip()][: args.lines]
    chars = sum(len(x.replace(" ", "")) for x in lines)
    speed = {}
    n_params = sum(p.numel() for p in FireRedPunc(model_dir).bert.parameters())
    for precision in args.precisions:
        model = FireRedPunc(model_dir, precision)
        model.punctuate(lines[: args.batch_size])  # warm-up
        params = PunctuationParams(str(model_dir), args.batch_size, -1, False, precision)
        segments = [{"start": float(i), "end": i + 1.0, "text": line, "words": []} for i, line in enumerate(lines)]
        t = time.perf_counter()
        punctuate_segments(model, segments, params)  # the merge step's own path: length-sorted batches
        wall = time.perf_counter() - t
        speed[precision] = chars / wall
        print(f"FireRedPunc (BERT-base size, {n_params / 1e6:.0f} M parameters), {precision}, {args.threads} threads, batch {args.batch_size}")
        print(f"  {len(lines)} lines, {chars} characters in {wall:.2f} s: {chars / wall:.0f} characters/s")
        print(f"  one hour of Mandarin speech (~{CHARS_PER_SPEECH_S * 3600:.0f} characters): {CHARS_PER_SPEECH_S * 3600 / (chars / wall):.1f} s")
    if args.asr_minutes:
        asr_s, audio_s = asr_seconds(args.asr_minutes, args.threads)
        print(f"ASR of {audio_s:.0f} s of speech, AED-L ONNX Runtime int8, cue-sized units: {asr_s:.1f} s")
        for precision, cps in speed.items():
            punc_s = CHARS_PER_SPEECH_S * audio_s / cps
            print(f"  punctuating its ~{CHARS_PER_SPEECH_S * audio_s:.0f} characters, {precision}: {punc_s:.2f} s = {100 * punc_s / asr_s:.1f}% of the ASR time")


def asr_seconds(minutes: float, threads: int) -> tuple[float, float]:
    """Wall seconds of the ASR step's decoding of ``minutes`` of synthesized speech (ONNX
    Runtime int8 AED-L, cue-sized units, benchmarks/cue_units.py's method), and the audio seconds."""
    import tempfile

    import aed_l
    import cue_units
    from support import media

    from firescribe.engines.silero import detect_speech
    from firescribe.plumbing.pcm import open_pcm
    from firescribe.settings import default_settings
    from firescribe.steps.plan import plan_audio

    loaded, variants = aed_l.load(["onnx-int8"], threads)
    model = variants["onnx-int8"]
    tmp = Path(tempfile.mkdtemp(prefix="firescribe-punc-asr-"))
    sentences, pauses = media.script(5, minutes * 60, media.PAUSED)
    media.speech_track(sentences, pauses, tmp / "talk.wav")
    pcm = open_pcm(tmp / "talk.wav")
    settings = default_settings(backend="fireredasr-aed")
    params = settings.plan.for_model(word_times=False)  # FireRedASR-AED v1: cue-sized units
    units = plan_audio(pcm, detect_speech(pcm, settings.vad), params)
    cue_units.decode(model, loaded.features, pcm, [[(0.0, 2.0)]], 3, 1.0)  # warm-up
    return cue_units.decode(model, loaded.features, pcm, units, 3, 4.0), len(pcm) / 16000


if __name__ == "__main__":
    main()
