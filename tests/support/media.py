"""Synthesize test media with known text and timing: espeak-ng speech, sox pauses, ffmpeg encode."""

from __future__ import annotations

import random
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "We will meet at the station at nine in the morning.",
    "The weather today is sunny with a light breeze from the west.",
    "She sells sea shells by the sea shore.",
    "A journey of a thousand miles begins with a single step.",
    "Reading books is a wonderful way to learn about the world.",
    "The train was late because of heavy snow on the tracks.",
    "My favourite colour is green, like the leaves in spring.",
    "Turn left at the next corner and walk two blocks north.",
    "Coffee and tea are the most popular drinks in the office.",
    "The children played football in the park until sunset.",
    "He opened the window to let some fresh air into the room.",
    "Music can change the mood of a room in a few seconds.",
    "Remember to switch off the lights when you leave the house.",
    "The museum opens at ten and closes at six every day.",
    "Our team finished the project two weeks ahead of schedule.",
    "Fresh bread smells wonderful early in the morning.",
    "The river flows slowly through the green valley.",
    "Please write your name at the top of the first page.",
]


# pauses between sentences (s): a talk with pauses, and pause-free speech (a fast talker, a
# news read: no pause reaches silero's 300 ms, so the VAD finds one long segment)
PAUSED = (0.4, 0.7, 1.2, 2.0)
PAUSE_FREE = (0.03, 0.06, 0.1, 0.12)


def script(seed: int, seconds: float, pauses: tuple[float, ...]) -> tuple[list[str], list[float]]:
    """Random sentences of SENTENCES, each with a pause drawn from ``pauses``, for about
    ``seconds`` of audio (espeak-ng speaks one in ~3 s)."""
    rng = random.Random(seed)
    sentences: list[str] = []
    gaps: list[float] = []
    while sum(gaps) + 3.0 * len(sentences) < seconds:
        sentences.append(rng.choice(SENTENCES))
        gaps.append(rng.choice(pauses))
    return sentences, gaps


@dataclass
class Utterance:
    text: str
    start: float
    end: float


def duration(wav: Path) -> float:
    with wave.open(str(wav)) as w:
        return w.getnframes() / w.getframerate()


def speak(text: str, out: Path, rate: int = 16000, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> Path:
    """``text`` spoken by espeak-ng (``pitch`` 50 is its default) into a mono 16-bit WAV."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text], check=True)
    subprocess.run(["sox", "-R", "-D", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out)], check=True)
    raw.unlink()
    return out


def over_music(voice: Path, music: Path, out: Path, music_volume: float, seconds: float | None = None) -> Path:
    """``voice`` mixed with ``music`` at ``music_volume``, cut to ``seconds`` (default: the voice's)."""
    length = f"{duration(voice):.3f}" if seconds is None else str(seconds)
    subprocess.run(["sox", "-R", "-D", "-m", "-v", "1.0", str(voice), "-v", str(music_volume), str(music), str(out), "trim", "0", length], check=True)
    return out


def speech_track(sentences: list[str], pauses: list[float], out: Path, voice: str = "en-us") -> list[Utterance]:
    """A WAV of the sentences, each followed by the given pause; returns the true times."""
    tmp = out.parent / (out.stem + "_parts")
    tmp.mkdir(parents=True, exist_ok=True)
    parts, utts, t = [], [], 0.0
    for i, (text, pause) in enumerate(zip(sentences, pauses)):
        sp = tmp / f"s{i:03d}.wav"
        speak(text, sp, voice=voice)
        # espeak pads a little silence at both ends; measure the voiced span with sox's silence trim
        trimmed = tmp / f"t{i:03d}.wav"
        subprocess.run(["sox", "-R", "-D", str(sp), str(trimmed), "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse"], check=True)
        d = duration(trimmed)
        utts.append(Utterance(text, round(t, 3), round(t + d, 3)))
        sil = tmp / f"p{i:03d}.wav"
        subprocess.run(["sox", "-R", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(sil), "trim", "0", str(pause)], check=True)
        parts += [trimmed, sil]
        t += d + pause
    subprocess.run(["sox", "-R", "-D", *map(str, parts), str(out)], check=True)
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()
    return utts


def encode(wav: Path, out: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args[:0], "-i", str(wav), *args, str(out)], check=True)
    return out


def to_mp4_aac(wav: Path, out: Path) -> Path:
    """MP4 with a black video track and AAC audio, like a screen recording."""
    dur = duration(wav)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=black:s=160x120:r=5:d={dur:.2f}",
         "-i", str(wav), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k", "-ar", "44100", "-shortest", str(out)],
        check=True,
    )
    return out


def to_mkv_opus_48k_stereo(wav: Path, out: Path) -> Path:
    return encode(wav, out, "-c:a", "libopus", "-b:a", "48k", "-ar", "48000", "-ac", "2")


def utterance(text: str, out: Path, lead: float, tail: float, voice: str = "en-us", speed: int = 160) -> None:
    """One dataset-style utterance: ``text`` spoken, with ``lead`` and ``tail`` seconds of
    silence around it (as recorded prompts have), 16 kHz mono WAV."""
    spoken = out.with_suffix(".spoken.wav")
    speak(text, spoken, voice=voice, speed=speed)
    subprocess.run(["sox", "-R", "-D", str(spoken), str(out), "pad", f"{lead:.2f}", f"{tail:.2f}"], check=True)
    spoken.unlink()


def dataset(folder: Path, n: int, seed: int = 0, max_s: float = 8.0) -> dict[str, str]:
    """A corpus shaped like an ASR test set: ``n`` WAV utterances of one or two sentences
    (2-8 s with their silences), ``utt00000.wav``...; returns each file name's reference text."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    refs = {}
    for i in range(n):
        sentences = rng.sample(SENTENCES, rng.randint(1, 2))
        name = f"utt{i:05d}.wav"
        lead, tail = rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.4)
        utterance(" ".join(sentences), folder / name, lead, tail)
        if duration(folder / name) > max_s:  # two long sentences: the first alone
            sentences = sentences[:1]
            utterance(sentences[0], folder / name, lead, tail)
        refs[name] = " ".join(sentences)
    return refs


# chords of plucked strings: what FireRedVAD's event model hears as music
CHORDS = (("C4", "E4", "G4"), ("F4", "A4", "C5"), ("G4", "B4", "D5"), ("A3", "C4", "E4"))


def music(out: Path, seconds: float) -> Path:
    """Plucked chords, 2 s each, 16 kHz mono."""
    parts = []
    for i in range(max(1, round(seconds / 2))):
        parts += ["synth", "2"] + [a for note in CHORDS[i % len(CHORDS)] for a in ("pluck", note)] + [":"]
    subprocess.run(["sox", "-R", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(out), *parts[:-1], "remix", "-", "norm", "-3"], check=True)
    return out


def tones(out: Path, seconds: float, freqs: tuple[int, ...] = (440, 1000)) -> Path:
    """Sine tones in turn (test tones, a phone's beeps), 16 kHz mono."""
    parts = []
    for f in freqs:
        parts += ["synth", f"{seconds / len(freqs):.3f}", "sine", str(f), ":"]
    subprocess.run(["sox", "-R", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(out), *parts[:-1], "norm", "-6"], check=True)
    return out


def organ(out: Path, seconds: float) -> Path:
    """A held chord of sawtooth waves (an organ or a synth pad): voiced enough that a VAD
    hears speech in it, which FireRedVAD's event model hears as music."""
    subprocess.run(
        ["sox", "-R", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(out), "synth", str(seconds),
         "sawtooth", "220", "sawtooth", "277", "sawtooth", "330", "remix", "-", "norm", "-6"],
        check=True,
    )  # fmt: skip
    return out


def noise(out: Path, seconds: float, color: str = "pinknoise", level_db: float = -10) -> Path:
    subprocess.run(["sox", "-R", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(out), "synth", str(seconds), color, "norm", str(level_db)], check=True)
    return out


def concat(parts: list[Path], out: Path) -> Path:
    subprocess.run(["sox", "-R", "-D", *map(str, parts), str(out)], check=True)
    return out


def with_noise_floor(wav: Path, out: Path, amplitude: float = 0.001) -> Path:
    """``wav`` with white noise at ``amplitude`` (-60 dBFS) mixed in, as a recording has:
    frames of exact digital zeros have no log energy, and runtimes floor it differently."""
    noise_wav = out.with_suffix(".noise.wav")
    subprocess.run(["sox", "-R", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(noise_wav), "synth", f"{duration(wav):.4f}", "whitenoise", "vol", str(amplitude)], check=True)
    subprocess.run(["sox", "-R", "-D", "-m", str(wav), str(noise_wav), str(out)], check=True)
    noise_wav.unlink()
    return out
