"""silero-vad against FireRedVAD (and FireRedVAD with its event model), side by side in one run.

1. **The VAD alone** on media made here: espeak-ng speech with pauses (the true speech spans
   known) and non-speech of each kind - plucked chords (sox), an organ chord (sawtooth
   waves), test tones, pink, brown and white noise, a bare -60 dB noise floor, and where
   fluidsynth's General MIDI sounds are installed (``SOUNDFONT``) music played by sampled
   instruments (piano; guitar, strings and drums) and by sampled voices (a choir singing
   "aah": the nearest to singing that can be made here) - all over a -60 dB noise floor, as
   a recording has. Printed per VAD: speech missed (share of the true
   speech outside every segment), non-speech kept (share of each non-speech kind inside a
   segment that would be transcribed), segments, and the cost per hour of audio: CPU time
   (one thread), ``--repeat`` rounds with the VADs taking turns, each round's cost as a
   ratio to silero's in that round (the same load), and the median; on the files, and on the
   same audio joined into one file (a long video: FireRedVAD's graph runs on fewer, larger
   windows); the last lines state the ratios against the target (``TARGET``). Before the
   table, where FireRedVAD's CPU goes on that one file (``stages``).
2. **The whole workflow** (whisper tiny.en) on ``--files`` generated files, each speech
   interleaved with those non-speech parts: WER against the sentences spoken (text written
   over non-speech counts as insertions), insertions, wall.
3. **Real speech** (where ``../shared/data`` is beside the project): its Mandarin clips
   (FireRedASR's examples) and English clips (LibriVox), joined into one file per language
   with the non-speech parts between them: CER with the multilingual base model
   (``bundled:base``, language zh), WER with tiny.en.

    python benchmarks/vad.py --files 6 --nonspeech-seconds 60
    python benchmarks/vad.py --alone      # part 1 only
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from dataset import run_ours  # noqa: E402
from support import media  # noqa: E402

from firescribe.plumbing.pcm import SAMPLE_RATE, open_pcm  # noqa: E402
from firescribe.settings import default_settings  # noqa: E402
from firescribe.text.accuracy import score, total  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
# the VADs compared: a name -> the config's vad section
VADS = {
    "silero": {"model": "silero"},
    "fireredvad": {"model": "fireredvad"},
    "fireredvad+events": {"model": "fireredvad", "fireredvad": {"events": True}},
}
# General MIDI sounds for music played by sampled instruments and voices (fluidsynth;
# Debian: apt-get install fluidsynth fluid-soundfont-gm)
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
# issue 30: FireRedVAD with its event model at no more than this many times silero's CPU
TARGET = 2.0
PIANO, GUITAR, STRINGS, CHOIR = 0, 24, 48, 52  # General MIDI programs
DRUMS = 9  # the percussion channel
PROGRESSION = ((60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62))  # C, Am, F, G
MELODY = (72, 71, 69, 67, 69, 71, 72, 74)


def midi_music(out: Path, seconds: float, programs: tuple[int, ...], drums: bool = False, melody_program: int | None = None) -> Path:
    """A chord progression (and a melody, and drums) played by sampled General MIDI sounds,
    rendered at 16 kHz mono."""
    import mido

    beat = 480  # ticks
    song = mido.MidiFile(ticks_per_beat=beat)
    bars = max(1, round(seconds / 2))  # 120 bpm: a bar of 4 beats is 2 s
    for channel, program in enumerate(programs):
        track = mido.MidiTrack([mido.Message("program_change", channel=channel, program=program, time=0)])
        for bar in range(bars):
            chord = PROGRESSION[bar % len(PROGRESSION)]
            track += [mido.Message("note_on", channel=channel, note=n, velocity=80, time=0) for n in chord]
            track += [mido.Message("note_off", channel=channel, note=n, velocity=0, time=4 * beat if i == 0 else 0) for i, n in enumerate(chord)]
        song.tracks.append(track)
    if melody_program is not None:
        channel = len(programs)
        track = mido.MidiTrack([mido.Message("program_change", channel=channel, program=melody_program, time=0)])
        for k in range(bars * 4):
            note = MELODY[k % len(MELODY)]
            track += [mido.Message("note_on", channel=channel, note=note, velocity=90, time=0), mido.Message("note_off", channel=channel, note=note, velocity=0, time=beat)]
        song.tracks.append(track)
    if drums:
        track = mido.MidiTrack()
        for k in range(bars * 8):  # kick on beats, hi-hat on eighths, snare on 2 and 4
            notes = [42] + ([36] if k % 4 == 0 else []) + ([38] if k % 4 == 2 else [])
            track += [mido.Message("note_on", channel=DRUMS, note=n, velocity=90, time=0) for n in notes]
            track += [mido.Message("note_off", channel=DRUMS, note=n, velocity=0, time=beat // 2 if i == 0 else 0) for i, n in enumerate(notes)]
        song.tracks.append(track)
    song.save(out.with_suffix(".mid"))
    rendered = out.with_suffix(".fs.wav")
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", "1.0", "-F", str(rendered), "-r", "16000", str(SOUNDFONT), str(out.with_suffix(".mid"))], check=True, capture_output=True)
    subprocess.run(["sox", "-D", str(rendered), "-c", "1", "-b", "16", str(out), "remix", "-", "trim", "0", f"{seconds:.3f}", "norm", "-3"], check=True)
    rendered.unlink()
    out.with_suffix(".mid").unlink()
    return out


NON_SPEECH = {
    "music (plucked chords)": lambda out, s: media.music(out, s),
    "organ chord": lambda out, s: media.organ(out, s),
    "test tones": lambda out, s: media.tones(out, s, (440, 1000, 220)),
    "pink noise": lambda out, s: media.noise(out, s, "pinknoise", -10),
    "brown noise": lambda out, s: media.noise(out, s, "brownnoise", -10),
    "white noise": lambda out, s: media.noise(out, s, "whitenoise", -20),
    "noise floor": lambda out, s: media.noise(out, s, "whitenoise", -60),
}
if SOUNDFONT.exists():
    NON_SPEECH |= {
        "piano (sampled)": lambda out, s: midi_music(out, s, (PIANO,), melody_program=PIANO),
        "band (sampled)": lambda out, s: midi_music(out, s, (GUITAR, STRINGS), drums=True, melody_program=PIANO),
        "choir aahs (sampled voices)": lambda out, s: midi_music(out, s, (CHOIR,), melody_program=CHOIR),
    }


def detector(name: str):
    """``pcm -> [(start, end)]`` of the segments a VAD would have transcribed, one thread."""
    settings = default_settings()
    if name == "silero":
        from firescribe.engines.silero import detect_speech, silero_session

        session = silero_session()
        return lambda pcm: detect_speech(pcm, settings.vad, session)
    from firescribe.engines.fireredvad import FireRedVad  # one thread

    model = FireRedVad(dataclasses.replace(settings.fireredvad, events=name.endswith("events")))
    return lambda pcm: [(a, b) for a, b, label in model.detect(pcm)[0] if label == "speech"]


def covered(spans: list[tuple[float, float]], segments: list[tuple[float, float]]) -> float:
    """Seconds of ``spans`` inside any of ``segments``."""
    out = 0.0
    for a, b in spans:
        for c, d in segments:
            out += max(0.0, min(b, d) - max(a, c))
    return out


def vad_alone(folder: Path, nonspeech_s: float, speech_files: int, repeat: int) -> pd.DataFrame:
    speech, truth = [], []
    rng = random.Random(0)
    for i in range(speech_files):
        sentences = rng.sample(media.SENTENCES, 8)
        utts = media.speech_track(sentences, [rng.choice(media.PAUSED) for _ in sentences], folder / f"speech{i}.raw.wav")
        speech.append(media.with_noise_floor(folder / f"speech{i}.raw.wav", folder / f"speech{i}.wav"))
        truth.append([(u.start, u.end) for u in utts])
    other = {}
    for kind, make in NON_SPEECH.items():
        raw = make(folder / f"{kind}.raw.wav", nonspeech_s)
        other[kind] = media.with_noise_floor(raw, folder / f"{kind}.wav")
    wavs = [*speech, *other.values()]
    audio_s = sum(media.duration(w) for w in wavs)
    detectors = {name: detector(name) for name in VADS}
    joined = np.concatenate([np.asarray(open_pcm(w)) for w in wavs])  # the same audio as one file, as a long video
    # the VADs take turns, ``repeat`` rounds: each round's costs are side by side (the same load)
    cpu, cpu_joined, first = {name: [] for name in VADS}, {name: [] for name in VADS}, {}
    for _ in range(repeat):
        for name, detect in detectors.items():
            t = time.process_time()
            found = {w: detect(open_pcm(w)) for w in wavs}
            cpu[name].append((time.process_time() - t) / audio_s * 3600)
            first.setdefault(name, found)  # what each VAD found (the same every round)
            t = time.process_time()
            detect(joined)
            cpu_joined[name].append((time.process_time() - t) / audio_s * 3600)
    print(f"\nWhere the CPU goes, the same audio as one file ({audio_s:.0f} s), CPU s per audio hour, median of {repeat} rounds:")
    print(stages(joined, repeat).to_string(na_rep="-"))
    rows = []
    for name in VADS:
        found = first[name]
        true_s = sum(b - a for spans in truth for a, b in spans)
        missed = 1 - sum(covered(spans, found[w]) for w, spans in zip(speech, truth)) / true_s
        row = {"vad": name, "speech missed %": 100 * missed, "segments (speech files)": sum(len(found[w]) for w in speech)}
        for kind, w in other.items():
            row[f"kept % {kind}"] = 100 * sum(b - a for a, b in found[w]) / media.duration(w)
        for files, costs in (("files", cpu), ("one file", cpu_joined)):
            row[f"{files}: cpu s per audio hour (median)"] = statistics.median(costs[name])
            row[f"{files}: cpu x silero's (median of rounds)"] = statistics.median(c / s for c, s in zip(costs[name], costs["silero"], strict=True))
            row[f"{files}: cpu x silero's, each round"] = " ".join(f"{c / s:.2f}" for c, s in zip(costs[name], costs["silero"], strict=True))
        rows.append(row)
    return pd.DataFrame(rows).set_index("vad")


def stages(pcm: np.ndarray, repeat: int) -> pd.DataFrame:
    """Where FireRedVAD's CPU goes on one file (``pcm``): the filterbank, the ONNX Runtime graph
    (the VAD, and both models with events), the post-processing (``detect`` on probabilities
    computed before), the whole ``detect``, and
    silero's whole cost beside them; CPU s per audio hour, median of ``repeat`` rounds."""
    from firescribe.engines.fireredvad import FireRedVad, fbank_chunks

    settings, hours = default_settings(), len(pcm) / SAMPLE_RATE / 3600
    silero = detector("silero")
    models = {"fireredvad": FireRedVad(dataclasses.replace(settings.fireredvad, events=False)), "fireredvad+events": FireRedVad(dataclasses.replace(settings.fireredvad, events=True))}
    cpu: dict[tuple[str, str], list[float]] = {}

    def timed(key: tuple[str, str], work) -> None:
        t = time.process_time()
        work()
        cpu.setdefault(key, []).append((time.process_time() - t) / hours)

    for _ in range(repeat):
        timed(("silero", "whole"), lambda: silero(pcm))
        for name, model in models.items():
            chunks = list(fbank_chunks(pcm))
            timed((name, "filterbank"), lambda: list(fbank_chunks(pcm)))
            timed((name, "ONNX Runtime graph"), lambda m=model, c=chunks: [m.run(f) for f in c])
            probs = model.probabilities(pcm)
            model.probabilities = lambda _pcm, p=probs: p  # detect on these: its post-processing alone
            timed((name, "post-processing"), lambda m=model: m.detect(pcm))
            del model.probabilities
            timed((name, "whole"), lambda m=model: m.detect(pcm))
    table = pd.DataFrame([{"vad": name, "stage": stage, "cpu s per audio hour": statistics.median(v)} for (name, stage), v in cpu.items()])
    table = table.pivot(index="stage", columns="vad", values="cpu s per audio hour")[["silero", *models]]
    return table.loc[["filterbank", "ONNX Runtime graph", "post-processing", "whole"]]


def interleaved(folder: Path, n: int, part_s: float) -> dict[str, str]:
    """``n`` files, each sentences with non-speech parts between them; name -> the text spoken."""
    folder.mkdir(parents=True)
    rng, kinds, refs = random.Random(1), list(NON_SPEECH), {}
    for i in range(n):
        sentences = rng.sample(media.SENTENCES, 4)
        parts = []
        for k, sentence in enumerate(sentences):
            media.speech_track([sentence], [0.5], folder / f"{i}.{k}.s.wav")
            parts.append(folder / f"{i}.{k}.s.wav")
            if k < len(sentences) - 1:
                kind = kinds[(i * 3 + k) % len(kinds)]
                parts.append(NON_SPEECH[kind](folder / f"{i}.{k}.n.wav", part_s))
        media.concat(parts, folder / f"{i}.parts.wav")
        media.with_noise_floor(folder / f"{i}.parts.wav", folder / f"mixed{i:02d}.wav")
        for p in folder.glob(f"{i}.*"):
            p.unlink()
        refs[f"mixed{i:02d}.wav"] = " ".join(sentences)
    return refs


def real(folder: Path, lang: str, part_s: float) -> tuple[Path, str] | None:
    """The real clips of one language joined with non-speech parts between them (resampled to
    16 kHz mono); the file and its reference."""
    if lang == "zh":
        clips = SHARED / "zh_fireredasr"
        refs = dict(line.split(None, 1) for line in (clips / "text").read_text(encoding="utf-8").splitlines() if line.strip()) if clips.is_dir() else {}
        wavs = {u: clips / f"{u}.wav" for u in sorted(refs)}
    else:
        clips = SHARED / "en_librivox"
        if not clips.is_dir():
            return None
        lines = (clips / "librivox_transcription").read_text().splitlines()
        refs = {}
        for line in lines:  # "text (uttid)"
            if "(" in line:
                text, uttid = line.rsplit("(", 1)
                refs[uttid.strip(" )")] = text.replace("<s>", "").replace("</s>", "").strip()
        wavs = {u: clips / f"{u}.wav" for u in sorted(refs) if (clips / f"{u}.wav").exists()}
    if not wavs:
        return None
    folder.mkdir(parents=True)
    parts, kinds = [], list(NON_SPEECH)
    for k, wav in enumerate(wavs.values()):
        subprocess.run(["sox", "-D", str(wav), "-r", "16000", "-c", "1", "-b", "16", str(folder / f"{k}.s.wav")], check=True)
        parts.append(folder / f"{k}.s.wav")
        parts.append(NON_SPEECH[kinds[k % len(kinds)]](folder / f"{k}.n.wav", part_s))
    media.concat(parts, folder / "parts.wav")
    out = media.with_noise_floor(folder / "parts.wav", folder / f"real_{lang}.wav")
    for p in [*parts, folder / "parts.wav"]:
        p.unlink()
    return out, " ".join(refs[u].strip() for u in wavs)


def workflow(corpus: Path, refs: dict[str, str], work: Path, config: dict) -> pd.DataFrame:
    rows = []
    for name, vad in VADS.items():
        run = run_ours(corpus, work / name.replace("+", "-"), 2, {**config, "vad": vad})
        scores = [score(ref, run["texts"].get(f, "")) for f, ref in refs.items()]
        t = total(scores)
        rows.append({"vad": name, f"{t.metric.upper()} %": 100 * t.error_rate, "insertions": t.insertions, "deletions": t.deletions, "wall s": run["wall s"]})
    return pd.DataFrame(rows).set_index("vad")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=6, help="generated files for the workflow comparison")
    parser.add_argument("--nonspeech-seconds", type=float, default=60.0, help="seconds of each non-speech kind for the VAD alone")
    parser.add_argument("--speech-files", type=int, default=4, help="speech tracks (8 sentences each) for the VAD alone")
    parser.add_argument("--part-seconds", type=float, default=4.0, help="seconds of each non-speech part between sentences")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the VAD alone's cost measurement (the median is printed)")
    parser.add_argument("--alone", action="store_true", help="only part 1, the VAD alone (minutes, not the workflow runs)")
    args = parser.parse_args()
    pd.set_option("display.width", 250, "display.max_columns", 30, "display.precision", 1)
    with tempfile.TemporaryDirectory(prefix="vad-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "alone").mkdir()
        print(f"1. the VAD alone ({args.speech_files} speech tracks, {args.nonspeech_seconds:.0f} s of each non-speech kind, one thread, CPU time of {args.repeat} rounds, the VADs taking turns):")
        # one thread, as in a vad job (firescribe.steps.vad.detect_files): numpy's BLAS too (else
        # the filterbank's products spin every core, counted as CPU time)
        with threadpool_limits(limits=1, user_api="blas"):
            table = vad_alone(tmp / "alone", args.nonspeech_seconds, args.speech_files, args.repeat)
        print(table.T.to_string())
        for files, what in (("files", f"the {len(NON_SPEECH) + args.speech_files} files"), ("one file", "the same audio joined into one file")):
            ratio, cost = table[f"{files}: cpu x silero's (median of rounds)"], table[f"{files}: cpu s per audio hour (median)"]
            print(f"\nCPU per audio hour, {what}, one thread, median of {args.repeat} rounds: silero {cost['silero']:.1f} s; "
                  + "; ".join(f"{name} {cost[name]:.1f} s = {ratio[name]:.2f}x silero's" for name in VADS if name != "silero")
                  + f" (target for fireredvad+events: <= {TARGET:.1f}x)")
        if args.alone:
            return
        refs = interleaved(tmp / "mixed", args.files, args.part_seconds)
        print(f"\n2. the workflow, whisper tiny.en, {args.files} files of speech with {args.part_seconds:.0f} s non-speech parts between sentences:")
        print(workflow(tmp / "mixed", refs, tmp / "runs-mixed", {}).to_string())
        for lang, config in (("zh", {"whisper": {"model": "bundled:base"}, "language": "zh"}), ("en", {"language": "en"})):
            found = real(tmp / f"real-{lang}", lang, args.part_seconds)
            if found is None:
                print(f"\n3. real {lang} clips: {SHARED} not found, skipped")
                continue
            wav, ref = found
            model = config.get("whisper", {}).get("model", "bundled:tiny.en")
            print(f"\n3. real {lang} clips joined with non-speech parts ({media.duration(wav):.0f} s), whisper {model}:")
            print(workflow(wav.parent, {wav.name: ref}, tmp / f"runs-{lang}", config).to_string())


if __name__ == "__main__":
    main()
