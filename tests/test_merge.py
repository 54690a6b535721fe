"""Subtitle cue cutting from word timestamps."""

from firescribe.merge import CueParams, pause_breaks, words_to_cues


def words(spec):
    """spec: list of (text, start, end)"""
    return [{"text": t, "start": a, "end": b} for t, a, b in spec]


def test_long_cue_splits_at_its_longest_pause_not_where_it_overflows():
    ws = words([(" He", 0.0, 0.3), (" opened", 0.3, 0.7), (" the", 0.7, 0.8), (" room", 0.8, 1.2),
                (" Music", 1.6, 2.0), (" can", 2.05, 2.3), (" change", 2.35, 2.8), (" moods", 2.85, 3.4)])
    cues = words_to_cues(ws, CueParams(max_cue_s=3.0, max_cue_chars=84, cue_gap_s=0.6))
    assert [c["text"] for c in cues] == ["He opened the room", "Music can change moods"]
    assert (cues[1]["start"], cues[1]["end"]) == (1.6, 3.4)


def test_cues_break_at_vad_pauses_and_sentence_ends():
    ws = words([(" One", 0.0, 0.4), (" two.", 0.4, 0.9), (" Three", 0.95, 1.3), (" four", 1.3, 1.7), (" five", 1.75, 2.1)])
    breaks = pause_breaks([(0.0, 1.5), (1.72, 2.2)])  # a VAD silence between "four" and "five"
    cues = words_to_cues(ws, CueParams(), breaks)
    assert [c["text"] for c in cues] == ["One two.", "Three four", "five"]
