"""Planning invariants: unit length limit, no speech lost or duplicated, chunks cover all units
once; stitched units map their times back to the media."""

import dataclasses
import random

import numpy as np
import pytest

from firescribe.plumbing.loudness import frame_energy
from firescribe.settings import default_settings
from firescribe.steps.asr import split_members
from firescribe.steps.plan import (
    FILE_GAP_S,
    PlanParams,
    Stitching,
    make_batches,
    make_chunks,
    make_units,
    pack_inputs,
    padding_fraction,
    split_long,
    unit_seconds,
)

# contiguous 60 s units, pauses up to 1 s merged: FireRedASR-AED's defaults
FIRERED = default_settings(backend="fireredasr-aed").plan


def plan_params(**given) -> PlanParams:
    return dataclasses.replace(FIRERED, **given)


def random_segments(rng: random.Random, n: int) -> list[tuple[float, float]]:
    t, segs = rng.uniform(0, 5), []
    for _ in range(n):
        dur = rng.choice([rng.uniform(0.2, 3), rng.uniform(3, 20), rng.uniform(20, 200)])
        segs.append((round(t, 3), round(t + dur, 3)))
        t += dur + rng.choice([0.05, rng.uniform(0.1, 1.5), rng.uniform(1.5, 10)])
    return segs


def covered(spans, x):
    return any(a <= x <= b for a, b in spans)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("max_unit_s", [30.0, 60.0])
@pytest.mark.parametrize("stitch", [False, True])
def test_units_respect_limit_and_keep_all_speech(seed, max_unit_s, stitch):
    rng = random.Random(seed)
    segs = random_segments(rng, rng.randint(1, 40))
    duration = segs[-1][1] + 1
    energy = np.random.default_rng(seed).random(int(duration / 0.01) + 1).astype(np.float32)
    params = plan_params(max_unit_s=max_unit_s, max_gap_s=1.0, stitch=stitch, stitch_pad_s=0.3)
    units = make_units(segs, params, energy, duration=duration)

    assert all(unit_seconds(u) <= max_unit_s + 1e-6 for u in units)
    spans = [span for u in units for span in u]
    assert all(b > a for a, b in spans)
    assert all(len(u) == 1 for u in units) or stitch
    # sorted and disjoint: no speech is transcribed twice; spans in a unit never touch (joined)
    assert all(s[1] <= t[0] for s, t in zip(spans, spans[1:]))
    assert all(s[1] < t[0] for u in units for s, t in zip(u, u[1:]))
    assert 0 <= spans[0][0] and spans[-1][1] <= duration
    # every speech instant is inside a unit: nothing dropped
    for a, b in segs:
        for x in np.linspace(a, b, 7):
            assert covered(spans, round(float(x), 3)), (x, a, b)
    # units do not swallow long silences; stitched spans keep at most the pad around speech
    for a, b in spans:
        assert any(sa < b and sb > a for sa, sb in segs)
    if stitch:
        for a, b in spans:  # each edge is in speech or within the pad of it
            assert a == 0 or any(sa - 0.301 <= a <= sb for sa, sb in segs), (a, b)
            assert any(sa <= b <= sb + 0.301 for sa, sb in segs), (a, b)
        # units are filled: a unit ends only where the next span would not fit
        for u, v in zip(units, units[1:]):
            assert unit_seconds(u) + v[0][1] - v[0][0] > max_unit_s - 1e-6 or u[-1][1] == v[0][0]


def test_neighbours_merge_only_across_short_gaps():
    segs = [(0.0, 2.0), (2.5, 4.0), (8.0, 9.0)]
    assert make_units(segs, plan_params(max_unit_s=30, max_gap_s=1.0)) == [[(0.0, 4.0)], [(8.0, 9.0)]]


def test_stitched_units_cut_pauses_and_keep_pads():
    segs = [(1.0, 3.0), (3.5, 5.0), (9.0, 20.0), (40.0, 55.0)]
    params = plan_params(max_unit_s=30, stitch=True, stitch_pad_s=0.3)
    # 3.0-3.5 is shorter than two pads: kept whole; 5.3-8.7 and 20.3-39.7 are cut out
    assert make_units(segs, params, duration=55.1) == [[(0.7, 5.3), (8.7, 20.3)], [(39.7, 55.1)]]


def test_stitching_maps_unit_times_to_the_media():
    t = Stitching([(0.7, 5.3), (8.7, 20.3)])  # unit audio: 0-4.6 s is 0.7-5.3, 4.6-16.2 s is 8.7-20.3
    assert t.to_media(1.0) == 1.7
    assert t.to_media(5.0) == 9.1
    # on the splice a start belongs to the next span, an end to the previous one
    assert t.to_media(4.6) == 8.7 and t.to_media(4.6, is_end=True) == 5.3
    assert t.span_to_media(4.0, 5.0) == (4.7, 9.1)  # a word over the splice spans the cut pause
    assert t.span_to_media(17.0, 18.0) == (20.3, 20.3)  # past the end: clamped into the unit
    assert Stitching([(2.0, 4.0)]).span_to_media(-0.5, 1.0) == (2.0, 3.0)


def test_long_speech_is_split_at_the_quietest_point():
    hop = 0.01
    energy = np.ones(int(100 / hop), dtype=np.float32)
    energy[int(41.0 / hop) : int(41.2 / hop)] = 0.0  # a short dip at 41.0-41.2 s
    pieces = split_long((0.0, 100.0), 60.0, energy)
    assert len(pieces) == 2
    assert abs(pieces[0][1] - 41.1) < 0.06
    assert pieces[1] == (pieces[0][1], 100.0)


def test_split_without_energy_cuts_at_limit():
    assert split_long((0.0, 130.0), 60.0, None) == [(0.0, 60.0), (60.0, 120.0), (120.0, 130.0)]


@pytest.mark.parametrize("seed", range(20))
def test_chunks_cover_every_unit_exactly_once(seed):
    rng = random.Random(seed)
    units = make_units(random_segments(rng, rng.randint(1, 60)), plan_params(max_unit_s=30))
    chunk_s = rng.choice([10.0, 60.0, 600.0])
    seconds = [unit_seconds(u) for u in units]
    chunks = make_chunks(seconds, chunk_s)
    flat = [i for c in chunks for i in c]
    assert flat == list(range(len(units)))
    for c in chunks[:-1]:
        audio = sum(seconds[i] for i in c)
        assert audio >= chunk_s  # a chunk closes only once it has enough audio
        assert audio - seconds[c[-1]] < chunk_s


def test_no_units_no_chunks():
    assert make_units([], FIRERED) == []
    assert make_chunks([], 600) == []


def test_length_sorted_batches_cut_padding():
    rng = random.Random(0)
    durations = [rng.uniform(1, 30) for _ in range(200)]
    batches = make_batches(durations, batch_s=120)
    assert sorted(i for b in batches for i in b) == list(range(200))
    assert all(len(b) * max(durations[i] for i in b) <= 120 or len(b) == 1 for b in batches)
    fixed = [list(range(i, min(200, i + 4))) for i in range(0, 200, 4)]  # arrival order, 4 per batch
    assert padding_fraction(durations, batches) < 0.5 * padding_fraction(durations, fixed)


def test_frame_energy_matches_direct_computation():
    pcm = (np.random.default_rng(1).standard_normal(16000 * 3) * 1000).astype(np.int16)
    e = frame_energy(pcm)
    assert e.shape == (300,)
    np.testing.assert_allclose(e[7], np.abs(pcm[7 * 160 : 8 * 160].astype(np.float32)).mean(), rtol=1e-6)


@pytest.mark.parametrize("seed", range(20))
def test_packed_inputs_hold_each_unit_once_within_the_limit(seed):
    rng = random.Random(seed)
    seconds = [rng.uniform(0.5, 30.0) for _ in range(rng.randint(1, 80))]
    inputs = pack_inputs(seconds, 30.0, pack=True)
    assert [i for inp in inputs for i in inp] == list(range(len(seconds)))

    def held(inp):  # audio and the silences between its files
        return sum(seconds[i] for i in inp) + FILE_GAP_S * (len(inp) - 1)

    assert all(held(inp) <= 30.0 or len(inp) == 1 for inp in inputs)
    # greedy: the next unit did not fit in the input before it
    assert all(held(a + b[:1]) > 30.0 for a, b in zip(inputs, inputs[1:]))
    assert pack_inputs(seconds, 30.0, pack=False) == [[i] for i in range(len(seconds))]


def test_files_are_packed_only_where_asked_and_timed():
    whisper = dataclasses.replace(default_settings().plan, pack_files=True)
    assert whisper.for_model(word_times=True).pack_files
    assert not whisper.for_model(word_times=False).pack_files  # no words: a file's text could not be given back
    assert not default_settings().plan.for_model(word_times=True).pack_files  # off by default


def word(text, start, end):
    return {"start": start, "end": end, "text": text, "confidence": 0.9}


def test_an_input_of_several_files_gives_each_its_words():
    # three file units in one input, 1 s apart: 0-4 s, 5-7 s, 8-12 s of the input's audio
    places = [(0.0, 4.0), (5.0, 7.0), (8.0, 12.0)]
    # " c" and " d" begin their files, stretched back over the pause (and into the file
    # before, as whisper does); " b" ends the first file, in the silence after it
    words = [word(" a", 0.2, 1.0), word(" b", 3.5, 4.6), word(" c", 3.8, 5.5), word(" d", 6.8, 8.5), word(" e", 11.8, 12.5)]
    seg = {"start": 0.2, "end": 12.5, "text": "a b c d e", "words": words, "avg_logprob": -0.2, "no_speech_prob": 0.01}
    parts = split_members([seg], places)
    assert [[s["text"] for s in p] for p in parts] == [["a b"], ["c"], ["d e"]]
    (first,), (second,), (third,) = parts
    assert first["words"][1] == word(" b", 3.5, 4.0)  # clamped into its file
    assert second["words"] == [word(" c", 0.0, 0.5)]  # times in the second file's own audio
    assert (third["start"], third["end"]) == (0.0, 4.0) and third["avg_logprob"] == -0.2
    no_words = {"start": 6.5, "end": 13.0, "text": "y", "words": []}
    assert split_members([no_words], places)[2] == [{**no_words, "start": 0.0, "end": 4.0}]


def test_a_single_file_input_keeps_its_segments_as_they_are():
    seg = {"start": 0.2, "end": 9.0, "text": "a", "words": [word(" a", 0.2, 9.5)]}
    assert split_members([seg], [(0.0, 9.0)]) == [[seg]]
