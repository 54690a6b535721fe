"""The real Mandarin clips of ../shared/data/zh_fireredasr (FireRedASR's examples, AISHELL-1,
AISHELL-2, WenetSpeech; Apache-2.0), read in place: never copied into the project."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from support.workflow import REPO

CLIPS = REPO.parent / "shared" / "data" / "zh_fireredasr"
SKIP_REASON = f"{CLIPS} not found (the real Mandarin clips beside the project, ../shared)"


def available() -> bool:
    return (CLIPS / "text").is_file()


def references() -> dict[str, str]:
    """uttid -> human reference (``text``: ``uttid<TAB>text``, words spaced in some)."""
    rows = (line.split(None, 1) for line in (CLIPS / "text").read_text(encoding="utf-8").splitlines() if line.strip())
    return {uttid: text.strip() for uttid, text in sorted(rows)}


def sample_sheet(folder: Path, language: str | None) -> Path:
    """A sample sheet of the four clips (their paths in place) with their references and
    ``language`` (empty: the config's) per file."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["sample\tpath\tlanguage\treference"]
    for uttid, text in references().items():
        (folder / f"{uttid}.ref.txt").write_text(text + "\n", encoding="utf-8")
        rows.append(f"{uttid}\t{CLIPS / f'{uttid}.wav'}\t{language or ''}\t{uttid}.ref.txt")
    sheet = folder / "sheet.tsv"
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return sheet


def faster_whisper_pipeline(model_path: str, language: str | None, clips: dict[str, np.ndarray] | None = None, beam_size: int = 5) -> dict[str, str]:
    """uttid -> text of faster-whisper's own ``BatchedInferencePipeline`` (its defaults: its
    VAD, batch 8; CPU int8, 2 threads) on each clip, or on the audio ``clips`` gives."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    model = WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=2, num_workers=1)
    pipeline = BatchedInferencePipeline(model)
    out = {}
    for uttid in references():
        audio = clips[uttid] if clips is not None else decode_audio(str(CLIPS / f"{uttid}.wav"))
        segments, _ = pipeline.transcribe(audio, language=language, beam_size=beam_size, batch_size=8)
        out[uttid] = "".join(s.text for s in segments).strip()
    return out
