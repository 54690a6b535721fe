"""Audio extraction with ffmpeg, and memory-mapped reading of the extracted 16 kHz PCM.

Inputs are untrusted: ffmpeg may open only the one local file it is given (protocol
whitelist ``file``) with an ordinary media demuxer (format whitelist: no playlists,
concat lists or image sequences, which could make it read other files or the network).
Extraction never raises on bad media; it reports ``status`` and ``reason`` instead, and
always leaves a valid (possibly empty) WAV so the rest of the DAG can proceed.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from firescribe.io import atomic_path, write_json

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000

# Demuxers for ordinary audio/video files. Playlist/indirection demuxers (hls, dash,
# concat, image2, ...) are left out on purpose: they can make ffmpeg open other files.
SAFE_DEMUXERS = (
    "aac,ac3,aiff,amr,ape,asf,au,avi,caf,dts,eac3,flac,flv,live_flv,matroska,webm,"
    "mov,mp4,m4a,3gp,3g2,mj2,mp3,mpeg,mpegts,mpegvideo,mxf,nut,ogg,rm,tta,truehd,"
    "w64,wav,wv,dsf,mlp,gsm,voc,xwma,h264,hevc,m4v,rawvideo"
)

STATUS_OK, STATUS_EMPTY, STATUS_FAILED = "ok", "empty", "failed"
STATUSES = (STATUS_OK, STATUS_EMPTY, STATUS_FAILED)  # a file's status in every table and report


@dataclass
class ExtractInfo:
    """What extraction found out about one input; written next to the WAV as JSON."""

    source: str
    status: str
    reason: str = ""
    duration: float = 0.0
    warnings: list[str] = field(default_factory=list)


def ffmpeg_exe() -> str:
    """The system ffmpeg if present, else the static binary shipped by imageio-ffmpeg."""
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_command(src: str, dst: str) -> list[str]:
    return [
        ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-v",
        "level+info",  # info for the declared duration; every line tagged with its level
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        SAFE_DEMUXERS,
        "-i",
        "file:" + str(Path(src).resolve()),  # 'file:' keeps names like '-x.mp4' or 'a:b.mp4' literal
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-map_metadata",
        "-1",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-c:a",
        "pcm_s16le",
        "-bitexact",
        "-f",
        "wav",
        "-y",
        "file:" + str(dst),
    ]


_LEVEL_TAG = re.compile(r"\[(error|fatal)\] ")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def ffmpeg_report(stderr: str) -> tuple[str, float | None]:
    """From ffmpeg's ``-v level+info`` output: its error lines (level tags removed), and the
    duration the input container declares in seconds (None if it declares none)."""
    errors = [_LEVEL_TAG.sub("", line) for line in stderr.splitlines() if _LEVEL_TAG.search(line)]
    m = _DURATION.search(stderr)
    declared = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else None
    return "\n".join(errors).strip(), declared


def _explain(stderr: str, src: str) -> str:
    """One line saying why ffmpeg failed, without the (possibly long) path."""
    text = stderr.replace("file:" + str(Path(src).resolve()), "input").replace(str(Path(src).resolve()), "input")
    if re.search(r"matches no streams|does not contain any stream", text):
        return "no audio stream"
    if "Format not on whitelist" in text:
        return "container type not allowed (playlists/concat lists are refused for safety)"
    if "Protocol not on whitelist" in text or "not on whitelist" in text:
        return "media refers to other files or URLs (refused for safety)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "ffmpeg failed without a message"
    last = lines[-1]
    if "Invalid data found when processing input" in last:
        return "not a readable media file (invalid data)"
    return "ffmpeg: " + last[:300]


def _empty_wav(path: str | Path) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)


def write_empty_wav(path: str | Path) -> None:
    with atomic_path(path) as tmp:
        _empty_wav(tmp)


def extract_audio(src: str | Path, wav_out: str | Path, info_out: str | Path) -> ExtractInfo:
    """Decode ``src`` to 16 kHz mono s16 WAV at ``wav_out``; write ``info_out`` JSON."""
    src = str(src)
    info = ExtractInfo(source=src, status=STATUS_OK)
    if not Path(src).is_file():
        info.status, info.reason = STATUS_FAILED, "file does not exist"
    elif Path(src).stat().st_size == 0:
        info.status, info.reason = STATUS_FAILED, "empty file (0 bytes)"
    if info.status == STATUS_FAILED:
        write_empty_wav(wav_out)
        write_json(info_out, asdict(info))
        return info

    with atomic_path(wav_out, suffix=".wav") as tmp:
        proc = subprocess.run(ffmpeg_command(src, str(tmp)), capture_output=True, text=True, errors="replace")
        n = num_samples(tmp) if tmp.stat().st_size > 0 else 0
        if n == 0:  # keep a valid empty WAV so downstream steps have their input
            _empty_wav(tmp)
    info.duration = round(n / SAMPLE_RATE, 3)
    errors, declared = ffmpeg_report(proc.stderr)
    if proc.returncode != 0 and n == 0:
        info.status, info.reason = STATUS_FAILED, _explain(errors, src)
    elif n == 0:
        info.status, info.reason = STATUS_EMPTY, "no audio samples"
    elif proc.returncode != 0 or errors:
        info.warnings.append(f"decoded partly or with errors ({info.duration:.1f} s kept): {_explain(errors, src)}")
    elif declared and info.duration < declared - max(1.0, 0.05 * declared):
        # a file cut exactly between two compressed frames decodes without any error
        info.warnings.append(f"decoded partly: {info.duration:.1f} s of the {declared:.1f} s the container declares")
    if info.status == STATUS_FAILED:
        log.error("extract %s: %s", src, info.reason)
    for w in info.warnings:
        log.warning("extract %s: %s", src, w)
    write_json(info_out, asdict(info))
    return info


def shard_audio(audio_dir: str | Path, sample: str) -> tuple[str, str]:
    """The WAV and the extraction JSON of ``sample`` in its shard's audio folder."""
    return str(Path(audio_dir) / f"{sample}.wav"), str(Path(audio_dir) / f"{sample}.json")


def extract_shard(media: dict[str, str], audio_dir: str | Path, workers: int = 1) -> list[ExtractInfo]:
    """Extract each file of a shard (``media``: sample -> path) into ``audio_dir``, with up to
    ``workers`` ffmpeg processes at once; a bad file is reported in its JSON and never stops
    the others."""
    from concurrent.futures import ThreadPoolExecutor

    Path(audio_dir).mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = [pool.submit(extract_audio, src, *shard_audio(audio_dir, sample)) for sample, src in media.items()]
        infos = []
        for i, (sample, job) in enumerate(zip(media, jobs), 1):
            infos.append(job.result())
            log.info("extract %d/%d: %s (%s, %.1f s)", i, len(media), sample, infos[-1].status, infos[-1].duration)
    return infos


def _data_offset_and_frames(path: str | Path) -> tuple[int, int]:
    with open(path, "rb") as fh:
        with wave.open(fh) as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1 or w.getframerate() != SAMPLE_RATE:
                raise ValueError(f"{path}: expected 16 kHz mono 16-bit PCM WAV")
            n = w.getnframes()
            w.readframes(0)  # positions the file at the start of the sample data
            return fh.tell(), n


def num_samples(path: str | Path) -> int:
    return _data_offset_and_frames(path)[1]


def open_pcm(path: str | Path) -> np.ndarray:
    """The WAV's samples as a read-only int16 memory map (no copy, any length)."""
    offset, n = _data_offset_and_frames(path)
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    return np.memmap(path, dtype="<i2", mode="r", offset=offset, shape=(n,))


def to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 samples -> float32 in [-1, 1)."""
    return pcm.astype(np.float32) / 32768.0


def read_span(pcm: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """float32 samples of [start_s, end_s) from a PCM memory map."""
    a = max(0, int(round(start_s * SAMPLE_RATE)))
    b = min(len(pcm), int(round(end_s * SAMPLE_RATE)))
    return to_float(np.asarray(pcm[a:b]))
