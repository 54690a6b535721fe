"""Audio extraction with ffmpeg, and memory-mapped reading of the extracted 16 kHz PCM.

Inputs are untrusted: ffmpeg may open only the one local file it is given (protocol
whitelist ``file``) with an ordinary media demuxer (format whitelist: no playlists,
concat lists or image sequences, which could make it read other files or the network).
Extraction never raises on bad media; it reports ``status`` and ``reason`` instead, and
always leaves a valid (possibly empty) WAV so the rest of the DAG can proceed.

Which audio a file's WAV holds (docs/usage.md, "Audio tracks, channels and start times"):

* its audio tracks are probed in-process (PyAV, the same libav as faster-whisper's; no
  process per file); a file with several tracks has each one's speech measured (silero)
  and the track chosen by ``TrackChoice``;
* a track that starts after the media's start (``start_time``, edit lists) is padded with
  silence from the media's start (ffmpeg ``aresample`` to the frames' own timestamps), so
  every time downstream is on the media's timeline, as a player shows it;
* a track of several channels whose mono downmix loses them (channels in opposite polarity)
  is taken from its loudest channel instead;
* a WAV whose header promises more data than the file holds is noted as cut.

An ordinary file (one track starting with the media, channels that downmix) is decoded by
the very command it always was, to the same bytes.
"""

from __future__ import annotations

import logging
import re
import shutil
import struct
import subprocess
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from firescribe.engines.silero import FRAME, silero_session, speech_probabilities
from firescribe.plumbing.io import atomic_path, read_json, write_json
from firescribe.plumbing.pcm import SAMPLE_RATE, num_samples, open_pcm, to_float
from firescribe.plumbing.store import Store, entry_key, media_identity, workflow_store

log = logging.getLogger(__name__)


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
    tracks: list[dict] = field(default_factory=list)  # AudioTrack of each audio track, as dicts
    track: int | None = None  # the audio track transcribed (its index among the audio tracks)
    channel: int | None = None  # the one channel transcribed (0 = first), None: the downmix
    offset: float = 0.0  # silence put before the track: where it starts on the media's timeline
    # channels or tracks transcribed apart, one after the other in the WAV (``apart_channels``,
    # ``apart_tracks``): {"channels": n} or {"tracks": [their indices]}, and "stride": seconds
    # from one's start in the WAV to the next's; None: one line of audio
    apart: dict | None = None


def ffmpeg_exe() -> str:
    """The system ffmpeg if present, else the static binary shipped by imageio-ffmpeg."""
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    import imageio_ffmpeg  # only without a system ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_input(src: str) -> list[str]:
    """ffmpeg and its safe reading of ``src`` (see the module doc)."""
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
    ]


def pcm_output(dst: str, track: int = 0, filters: str = "") -> list[str]:
    """The 16 kHz mono s16 WAV of audio track ``track`` (after ``filters``, an ffmpeg ``-af``)."""
    return [
        "-map",
        f"0:a:{track}",
        "-vn",
        "-sn",
        "-dn",
        "-map_metadata",
        "-1",
        *(["-af", filters] if filters else []),
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


# the level (RMS, dB) of each channel of a track, printed at the end (an output to nowhere)
CHANNEL_STATS = "astats=measure_perchannel=RMS_level:measure_overall=none"


def ffmpeg_command(src: str, dst: str, track: int = 0, offset: bool = False, channel: int | None = None) -> list[str]:
    """Decode audio track ``track`` of ``src`` to ``dst``: from the media's start (``offset``:
    silence where the track starts later), its one channel ``channel`` or the downmix. The
    defaults are the command extraction always ran."""
    filters = ",".join(
        ["aresample=async=1:first_pts=0"] * offset  # silence from 0 to the first frame's time
        + ([f"pan=mono|c0=c{channel}"] if channel is not None else [])
    )
    return ffmpeg_input(src) + pcm_output(dst, track, filters)


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


# ---- what a file holds: audio tracks, their start, their channels ----------------------

# a track starting less than this after the media's start is decoded as it always was
MIN_OFFSET_S = 0.01
# a track "carries speech" with at least this much of it (silero frames >= 0.5) in its
# first SPEECH_PROBE_S seconds: only measured where a file has several tracks
SPEECH_S = 0.5
SPEECH_PROBE_S = 600
# the downmix "loses the channels" when it is this far (dB) below the loudest channel, and
# that channel is louder than SILENT_DB (a downmix of speech on one channel only is -6 dB)
CANCEL_DB = 20.0
SILENT_DB = -60.0

# ISO 639-1 codes and the ISO 639-2 tags containers use for them (both B and T forms)
LANGUAGE_TAGS = {
    "ar": ("ara",), "de": ("ger", "deu"), "en": ("eng",), "es": ("spa",), "fr": ("fre", "fra"),
    "hi": ("hin",), "it": ("ita",), "ja": ("jpn",), "ko": ("kor",), "nl": ("dut", "nld"),
    "pl": ("pol",), "pt": ("por",), "ru": ("rus",), "sv": ("swe",), "tr": ("tur",),
    "uk": ("ukr",), "vi": ("vie",), "yue": ("yue",), "zh": ("chi", "zho", "cmn"),
}  # fmt: skip


def language_codes(tag: str | None) -> set[str]:
    """The codes one language goes by: ``en``, ``eng``, ``en-US`` -> {en, eng}; empty for
    none or ``und``."""
    tag = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    if not tag or tag in ("und", "auto"):
        return set()
    for short, long in LANGUAGE_TAGS.items():
        if tag == short or tag in long:
            return {short, *long}
    return {tag}


def same_language(a: str | None, b: str | None) -> bool:
    return bool(language_codes(a) & language_codes(b))


@dataclass
class AudioTrack:
    """One audio track of a file, as probed."""

    index: int  # among the file's audio tracks (ffmpeg's 0:a:N)
    language: str  # its language tag ("" where none)
    codec: str
    channels: int
    default: bool  # marked as the default track
    start: float  # where it starts, seconds after the media's start
    speech_s: float | None = None  # its speech (where several tracks were compared)

    def label(self) -> str:
        """``a:1 eng aac 2ch default``"""
        parts = [f"a:{self.index}", self.language or "und", self.codec, f"{self.channels}ch"]
        return " ".join(parts + ["default"] * self.default)


def probe_tracks(src: str) -> list[AudioTrack]:
    """The audio tracks of ``src``: a RIFF WAV's one track from its header (the cheap path
    for datasets of WAV files), other files in-process with PyAV, read as safely as ffmpeg
    reads them; empty where none or where the file cannot be opened (ffmpeg then says why)."""
    header = wav_header(src)
    if header:
        return [AudioTrack(0, "", header["codec"], header["channels"], False, 0.0)]
    try:
        import av  # PyAV (~60 ms): steps that read this module's constants never probe

        options = {"protocol_whitelist": "file", "format_whitelist": SAFE_DEMUXERS}
        with av.open("file:" + str(Path(src).resolve()), options=options) as c:
            zero = c.start_time / 1e6 if c.start_time is not None else 0.0  # the media's start
            tracks = []
            for i, st in enumerate(c.streams.audio):
                start = float(st.start_time * st.time_base) - zero if st.start_time is not None and st.time_base else 0.0
                language = st.language if st.language and st.language != "und" else ""
                default = bool(st.disposition & av.stream.Disposition.default)
                channels = st.codec_context.channels or 0
                tracks.append(AudioTrack(i, language, st.codec_context.name or "", channels, default, round(start, 6)))
            return tracks
    except Exception as e:  # noqa: BLE001 - a file PyAV cannot open is ffmpeg's to report
        log.info("probe %s: %s", src, e)
        return []


def track_speech(src: str, tracks: list[AudioTrack]) -> None:
    """Set each track's ``speech_s``: silero's speech frames in its first SPEECH_PROBE_S
    seconds (all tracks decoded by one ffmpeg run)."""
    with tempfile.TemporaryDirectory(prefix="firescribe-tracks-") as tmp:
        outs = [str(Path(tmp) / f"{t.index}.wav") for t in tracks]
        cmd = ffmpeg_input(src)
        cmd[cmd.index("-i") : cmd.index("-i")] = ["-t", str(SPEECH_PROBE_S)]
        for t, out in zip(tracks, outs):
            cmd += pcm_output(out, t.index)
        subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        session = silero_session()
        for t, out in zip(tracks, outs):
            pcm = open_pcm(out) if Path(out).is_file() and Path(out).stat().st_size > 0 else np.zeros(0, np.int16)
            probs = speech_probabilities(to_float(np.asarray(pcm)), session) if len(pcm) else np.zeros(0)
            t.speech_s = round(float((probs >= 0.5).sum()) * FRAME / SAMPLE_RATE, 2)


def choose_track(tracks: list[AudioTrack], choice: str | int | None, language: str | None) -> tuple[int, list[str]]:
    """The audio track to transcribe, and warnings. ``choice``: a track number (among the
    audio tracks, 0 = the first), a language tag, or None for the automatic choice: the one
    track carrying speech (``speech_s``); where several do (or none), the one in ``language``,
    then the one marked default, then the first."""
    warnings = []
    if not tracks:
        return 0, warnings
    listed = ", ".join(t.label() for t in tracks)
    if isinstance(choice, int) or (isinstance(choice, str) and choice.isdigit()):
        if int(choice) < len(tracks):
            return int(choice), warnings
        warnings.append(f"no audio track {choice} (the file has {listed}): chose one automatically")
    elif choice is not None:
        tagged = [t for t in tracks if same_language(t.language, choice)]
        if tagged:
            return next((t for t in tagged if t.default), tagged[0]).index, warnings
        warnings.append(f"no audio track in {choice!r} (the file has {listed}): chose one automatically")
    speaking = [t for t in tracks if t.speech_s is not None and t.speech_s >= SPEECH_S]
    candidates = speaking or tracks
    ranked = sorted(candidates, key=lambda t: (not same_language(t.language, language), not t.default, t.index))
    return ranked[0].index, warnings


_CHANNEL = re.compile(r"Channel: (\d+)")
_RMS = re.compile(r"RMS level dB: (-?inf|-?[\d.]+)")


# a downmix quieter than this (RMS, dB) has its channels' levels measured (a second ffmpeg
# pass over the track); speech recordings are -35 to -15 dB
QUIET_DB = -40.0


def channel_levels(stderr: str) -> list[float]:
    """Each channel's RMS level (dB) from ffmpeg's ``CHANNEL_STATS`` output."""
    levels = []
    for line in stderr.splitlines():
        if _CHANNEL.search(line):
            levels.append(float("-inf"))
        elif (m := _RMS.search(line)) and levels:
            levels[-1] = float(m.group(1))
    return levels


def level_db(path: str | Path) -> float:
    """RMS level (dB, full scale 0) of a 16 kHz mono WAV, read in blocks."""
    pcm = open_pcm(path)
    total = 0.0
    for a in range(0, len(pcm), 1 << 22):
        block = np.asarray(pcm[a : a + (1 << 22)], dtype=np.float32)
        total += float(np.dot(block, block))
    return 10 * np.log10(total / len(pcm) / 32768.0**2) if len(pcm) and total > 0 else float("-inf")


WAV_CODECS = {1: "pcm_{}{}le", 3: "pcm_f{}le", 6: "pcm_alaw", 7: "pcm_mulaw"}


def wav_header(path: str) -> dict | None:
    """A RIFF WAV's header: ``channels``, ``codec`` (as ffmpeg names it), and ``declared``
    and ``present`` seconds of sample data (what the header promises, what the file holds);
    None for any other file (or a WAV of a kind ffmpeg must read itself)."""
    try:
        size = Path(path).stat().st_size
        with open(path, "rb") as f:
            head = f.read(12)
            if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            fmt = None
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                kind, n = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if kind == b"fmt ":
                    fmt = f.read(n)
                    n = 0
                elif kind == b"data":
                    if fmt is None or len(fmt) < 16:
                        return None
                    tag, channels, _, byte_rate, _, bits = struct.unpack("<HHIIHH", fmt[:16])
                    if tag == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the subformat's tag
                        tag = struct.unpack("<H", fmt[24:26])[0]
                    if tag not in WAV_CODECS or not byte_rate or not channels:
                        return None
                    codec = WAV_CODECS[tag].format("u" if bits == 8 else "s", bits) if tag == 1 else WAV_CODECS[tag].format(bits)
                    present = size - f.tell()
                    declared = present if n in (0, 0xFFFFFFFF) else n  # 0 / all ones: a streamed header
                    return {"channels": channels, "codec": codec.replace("u8le", "u8"), "declared": declared / byte_rate, "present": present / byte_rate}
                f.seek(n + (n & 1), 1)
    except (OSError, struct.error):
        return None


def wav_shortfall(path: str) -> tuple[float, float] | None:
    """For a RIFF WAV whose header promises more sample data than the file holds: (seconds
    declared, seconds present); None otherwise (not a WAV, whole, or a streamed header)."""
    header = wav_header(path)
    if header and header["declared"] > header["present"] + 1e-6:
        return header["declared"], header["present"]
    return None


def _decode(src: str, tmp: Path, **how) -> tuple[subprocess.CompletedProcess, int]:
    proc = subprocess.run(ffmpeg_command(src, str(tmp), **how), capture_output=True, text=True, errors="replace")
    return proc, (num_samples(tmp) if tmp.exists() and tmp.stat().st_size > 0 else 0)


def measure_channels(src: str, track: int) -> list[float]:
    """Each channel's RMS level (dB) of audio track ``track``: one more ffmpeg pass."""
    cmd = ffmpeg_input(src) + ["-map", f"0:a:{track}", "-af", CHANNEL_STATS, "-f", "null", "-"]
    return channel_levels(subprocess.run(cmd, capture_output=True, text=True, errors="replace").stderr)


# silence between two channels transcribed apart, one after the other in the WAV: longer than
# any pause the plan step joins into a unit (plan.max_gap_s) and cues break at
APART_GAP_S = 10.0


def apart_channels(src: str, tmp: Path, how: dict) -> tuple[subprocess.CompletedProcess, int, dict | None]:
    """Decode the track's channels at 16 kHz and write them to ``tmp`` one after the other,
    APART_GAP_S of silence between them: the samples written, and the ``apart`` record."""
    multi = tmp.with_name(tmp.name + ".channels.wav")
    cmd = ffmpeg_input(src) + pcm_output(str(multi), how["track"], "aresample=async=1:first_pts=0" if how["offset"] else "")
    i = cmd.index("-ac")
    del cmd[i : i + 2]  # every channel
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    try:
        with open(multi, "rb") as fh, wave.open(fh) as w:
            channels, n = w.getnchannels(), w.getnframes()
            w.readframes(0)  # positions the file at the start of the sample data
            offset = fh.tell()
        pcm = np.memmap(multi, dtype="<i2", mode="r", offset=offset, shape=(n, channels)) if n else np.zeros((0, channels), np.int16)
        gap = np.zeros(int(APART_GAP_S * SAMPLE_RATE), dtype="<i2")
        with wave.open(str(tmp), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            for c in range(channels):
                for a in range(0, n, 1 << 20):
                    out.writeframes(np.ascontiguousarray(pcm[a : a + (1 << 20), c]).tobytes())
                if c < channels - 1:
                    out.writeframes(gap.tobytes())
        del pcm
        return proc, n, {"channels": channels, "stride": (n + len(gap)) / SAMPLE_RATE}
    except (OSError, EOFError, wave.Error):
        return proc, 0, None
    finally:
        multi.unlink(missing_ok=True)


def apart_tracks(src: str, tmp: Path, tracks: list[AudioTrack]) -> tuple[subprocess.CompletedProcess, int, dict | None]:
    """Decode every track (each from the media's start, mixed down) and write them to ``tmp``
    one after the other, each padded to the longest, APART_GAP_S of silence between them: the
    samples of the longest, and the ``apart`` record."""
    with tempfile.TemporaryDirectory(prefix="firescribe-tracks-", dir=tmp.parent) as folder:
        outs = [Path(folder) / f"{t.index}.wav" for t in tracks]
        cmd = ffmpeg_input(src)
        for t, out in zip(tracks, outs):
            cmd += pcm_output(str(out), t.index, "aresample=async=1:first_pts=0" if t.start >= MIN_OFFSET_S else "")
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        pcms = [open_pcm(o) if o.is_file() and o.stat().st_size > 0 else np.zeros(0, np.int16) for o in outs]
        n = max(len(p) for p in pcms)
        gap = int(APART_GAP_S * SAMPLE_RATE)
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            for i, pcm in enumerate(pcms):
                for a in range(0, len(pcm), 1 << 20):
                    w.writeframes(np.asarray(pcm[a : a + (1 << 20)]).tobytes())
                w.writeframes(np.zeros(n - len(pcm) + gap * (i < len(pcms) - 1), dtype="<i2").tobytes())
        del pcms
    return proc, n, {"tracks": [t.index for t in tracks], "stride": (n + gap) / SAMPLE_RATE}


def extract_audio(
    src: str | Path, wav_out: str | Path, info_out: str | Path, track: str | int | None = None, language: str | None = None, apart: bool = False
) -> ExtractInfo:
    """Decode ``src`` to 16 kHz mono s16 WAV at ``wav_out``; write ``info_out`` JSON.
    ``track``: which audio track (``choose_track``; None: the automatic choice; "all": every
    track, one after the other (``apart_tracks``), the automatic choice the file's main
    transcript); ``language``: the run's, preferred among several tracks that carry speech;
    ``apart``: a track's channels one after the other (``apart_channels``)."""
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

    tracks = probe_tracks(src)
    if len(tracks) > 1:
        track_speech(src, tracks)
    every = track == "all"
    chosen, info.warnings = choose_track(tracks, None if every else track, language)
    t = tracks[chosen] if tracks else None
    how = {"track": chosen, "offset": bool(t and t.start >= MIN_OFFSET_S)}
    several = bool(t and t.channels > 1)
    with atomic_path(wav_out, suffix=".wav") as tmp:
        if every and len(tracks) > 1:
            proc, n, info.apart = apart_tracks(src, tmp, tracks)
        elif apart and several:
            proc, n, info.apart = apart_channels(src, tmp, how)
        else:
            proc, n = _decode(src, tmp, **how)
        # a quiet downmix of several channels: did the mix lose what the channels carry?
        mono = level_db(tmp) if several and not info.apart and n else 0.0
        levels = measure_channels(src, chosen) if mono < QUIET_DB else []
        if levels and max(levels) > SILENT_DB and mono < max(levels) - CANCEL_DB:
            info.channel = int(np.argmax(levels))
            proc, n = _decode(src, tmp, track=chosen, offset=how["offset"], channel=info.channel)
            info.warnings.append(
                f"the channels cancel in the mono downmix ({'silence' if mono == float('-inf') else f'{mono:.1f} dB'} against {max(levels):.1f} dB): "
                f"transcribed channel {info.channel + 1} of {len(levels)} alone"
            )
        if n == 0:  # keep a valid empty WAV so downstream steps have their input
            _empty_wav(tmp)
    info.tracks = [asdict(x) for x in tracks]
    info.track = chosen if tracks else None
    info.offset = round(t.start, 3) if how["offset"] and not (info.apart and "tracks" in info.apart) else 0.0
    info.duration = round(n / SAMPLE_RATE, 3)
    errors, declared = ffmpeg_report(proc.stderr)
    short = wav_shortfall(src)
    if proc.returncode != 0 and n == 0:
        info.status, info.reason = STATUS_FAILED, _explain(errors, src)
    elif n == 0:
        info.status, info.reason = STATUS_EMPTY, "no audio samples"
    elif proc.returncode != 0 or errors:
        info.warnings.append(f"decoded partly or with errors ({info.duration:.1f} s kept): {_explain(errors, src)}")
    elif short:
        info.warnings.append(f"decoded partly: the file is cut short, {short[1]:.1f} s of the {short[0]:.1f} s its WAV header declares")
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


def extract_shard(
    media: dict[str, str],
    audio_dir: str | Path,
    workers: int = 1,
    track: str | int | None = None,
    language: str | None = None,
    apart: bool = False,
    store: Store | None | str = "workflow",
) -> list[ExtractInfo]:
    """Extract each file of a shard (``media``: sample -> path) into ``audio_dir``, with up to
    ``workers`` ffmpeg processes at once; a bad file is reported in its JSON and never stops
    the others. ``track``, ``language``, ``apart``: as ``extract_audio`` takes them. A file
    whose WAV and JSON are in the per-file ``store`` (firescribe.plumbing.store; "workflow": the
    workflow's, where ``audio_dir`` is ``results/work/audio/<shard>``) for the same media
    (path, size, mtime) and options is linked from there, not decoded again."""
    if store == "workflow":
        store = workflow_store(audio_dir, depth=2)
    Path(audio_dir).mkdir(parents=True, exist_ok=True)

    def one(sample: str, src: str) -> tuple[ExtractInfo, bool]:
        wav, info_json = shard_audio(audio_dir, sample)
        key = entry_key("extract", sample, media_identity(src), {"track": track, "language": language, "apart": apart})
        if store is not None:
            store.use("extract", key)
            if store.has("extract", key, "wav", "json") and store.get_file("extract", key, "json", info_json) and store.get_file("extract", key, "wav", wav):
                info = ExtractInfo(**read_json(info_json))
                for w in info.warnings:
                    log.warning("extract %s: %s", src, w)
                return info, True
        info = extract_audio(src, wav, info_json, track, language, apart)
        if store is not None and info.status != STATUS_FAILED:  # a failure is tried again
            store.put_file("extract", key, "wav", wav)  # the WAV first: an entry is complete with its JSON
            store.put_file("extract", key, "json", info_json)
        return info, False

    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = [pool.submit(one, sample, src) for sample, src in media.items()]
        infos = []
        for i, (sample, job) in enumerate(zip(media, jobs), 1):
            info, stored = job.result()
            infos.append(info)
            log.info("extract %d/%d: %s (%s, %.1f s%s)", i, len(media), sample, info.status, info.duration, ", stored" if stored else "")
    if store is not None:
        store.remember()
    return infos
