"""Which way of giving whisper a hotword list helps? Recall of the names and terms, false
alarms, and WER, on synthesized speech (espeak-ng) that anyone can make again:

* 20 sentences, each saying one of 20 names and terms (people, places, software), and 10
  sentences saying none (tests/support/media.SENTENCES[:10]);
* decoded with the bundled tiny.en as the workflow decodes (faster-whisper's batched
  pipeline, beam 5, int8, one clip a unit), with no prompt, and with the terms given as
  faster-whisper's ``hotwords`` or as its ``initial_prompt``: all 20 for every clip (a corpus
  list), or only the one term a clip says (a per-file list of one term; a term-free clip gets
  none), and the 20 as a sentence ("Glossary: ...").

    python benchmarks/whisper_hotwords.py --threads 2

Each clip is one unit, so a prompt per unit and per file are the same here. Prints one row
a variant: hotword occurrences found of those said, false alarms (in term-free clips too),
and the corpus WER, over all 30 clips and over the 10 term-free ones.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import media  # noqa: E402

from firescribe.text.accuracy import hotword_score, score, total  # noqa: E402

TERMS = [
    "Firescribe", "Snakemake", "Xiaoming Zhang", "Kubernetes", "Qwen", "vLLM", "Hangzhou", "FireRedASR",
    "Nextflow", "Grafana", "Ollama", "Shenzhen", "Terraform", "Jupyter", "Postgres", "Zhejiang",
    "Mistral", "Wenzhou", "PyTorch", "Anthropic",
]  # fmt: skip
TEMPLATES = [
    "Yesterday we talked about {} for almost an hour.",
    "The next speaker will present {} after the break.",
    "Please send the notes on {} to everyone in the team.",
    "I think {} is the right choice for this project.",
    "We visited {} last spring and learned a lot.",
]


def clips() -> list[tuple[str, list[str]]]:
    """(sentence, the terms it says) for every clip."""
    said = [(TEMPLATES[i % len(TEMPLATES)].format(t), [t]) for i, t in enumerate(TERMS)]
    return said + [(s, []) for s in media.SENTENCES[:10]]


def variants() -> dict[str, callable]:
    """name -> (the terms a clip says) -> faster-whisper keyword arguments."""
    every = ", ".join(TERMS)
    return {
        "none": lambda own: {},
        "hotwords, 20 terms": lambda own: {"hotwords": every},
        "hotwords, own term": lambda own: {"hotwords": ", ".join(own)} if own else {},
        "hotwords, 20 as a sentence": lambda own: {"hotwords": f"Glossary: {every}."},
        "initial_prompt, 20 terms": lambda own: {"initial_prompt": every},
        "initial_prompt, own term": lambda own: {"initial_prompt": ", ".join(own)} if own else {},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from firescribe.engines.backends.whisper import resolve_model
    from firescribe.plumbing.pcm import open_pcm, to_float

    model = WhisperModel(resolve_model("bundled:tiny.en"), device="cpu", compute_type="int8", cpu_threads=args.threads)
    pipeline = BatchedInferencePipeline(model)
    data = clips()
    with tempfile.TemporaryDirectory() as tmp:
        audio = []
        for i, (sentence, _) in enumerate(data):
            media.speak(sentence, Path(tmp) / f"{i}.wav")
            audio.append(to_float(open_pcm(Path(tmp) / f"{i}.wav")))

    print("variant\tfound\tsaid\tfalse_alarms\twer_all\twer_term_free")
    for name, kwargs in variants().items():
        texts = []
        for a, (_, own) in zip(audio, data):
            segments, _ = pipeline.transcribe(
                a, language="en", clip_timestamps=[{"start": 0.0, "end": len(a) / 16000}], batch_size=8,
                beam_size=5, without_timestamps=True, **kwargs(own),
            )  # fmt: skip
            texts.append(" ".join(s.text.strip() for s in segments))
        hot = hotword_score([(sentence, text, TERMS) for (sentence, _), text in zip(data, texts)])
        wer_all = total([score(s, t) for (s, _), t in zip(data, texts)]).error_rate
        wer_free = total([score(s, t) for (s, own), t in zip(data, texts) if not own]).error_rate
        print(f"{name}\t{hot.found}\t{hot.in_reference}\t{hot.false_alarms}\t{wer_all:.4f}\t{wer_free:.4f}", flush=True)


if __name__ == "__main__":
    main()
