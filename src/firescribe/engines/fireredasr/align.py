"""Token timestamps for FireRedASR2-AED: CTC forced alignment of the decoded tokens.

The decoder's tokens are aligned to the encoder frames with the CTC head (Viterbi: the
single best path through blank / token states), and each token gets the time of its first
frame, as FireRedASR2 does (its ``get_token_timestamp_torchaudio`` and
``CTC.ctc_alignment_to_timestamp``). Encoder frames are 40 ms (10 ms features, 4x
subsampling).

Shapes: T' encoder frames, V vocabulary, L tokens, S = 2L + 1 alignment states.
"""

from __future__ import annotations

import re

import torch
from torch import Tensor

from firescribe.engines.fireredasr.tokenizer import SPM_SPACE

FRAME_S = 0.04  # 10 ms feature shift x 4 (the encoder's subsampling)
SHIFT_S = 0.06  # FireRedASR2 moves every timestamp this much earlier
_LATIN = re.compile(r"^[a-zA-Z']+$")


def forced_align(log_probs: Tensor, tokens: list[int], blank: int = 0) -> list[int]:
    """log_probs [T', V] (log-softmax of the CTC head), tokens (no blanks) -> the label of
    every frame on the best CTC path. Ties go to staying in a state, then to the nearer
    predecessor, as in FireRedASR2's reference ``CTC.ctc_align``."""
    ext = [blank]
    for tok in tokens:
        ext += [tok, blank]
    n_frames, n_states = log_probs.shape[0], len(ext)
    # the S columns of the path leave the model's device once: the frame-by-frame loop below
    # runs on the CPU (on a GPU each of its small steps would be a kernel launch)
    cpu = torch.device("cpu")
    ext_t = torch.tensor(ext, device=cpu)
    lp = log_probs.index_select(1, ext_t.to(log_probs.device)).float().to(cpu)  # [T', S]
    # a token state may be entered from two states back, unless that repeats the same token
    skip_ok = torch.zeros(n_states, dtype=torch.bool, device=cpu)
    skip_ok[2:] = (ext_t[2:] != blank) & (ext_t[2:] != ext_t[:-2])
    neg = torch.tensor(float("-inf"), device=cpu)
    alpha = torch.full((n_states,), float("-inf"), device=cpu)
    alpha[:2] = lp[0, :2]
    back = torch.zeros(n_frames, n_states, dtype=torch.long, device=cpu)  # 0 stay, 1 from s-1, 2 from s-2
    for t in range(1, n_frames):
        from_prev = torch.cat([neg[None], alpha[:-1]])
        from_skip = torch.where(skip_ok, torch.cat([neg.repeat(2), alpha[:-2]]), neg)
        best, arg = torch.stack([alpha, from_prev, from_skip]).max(dim=0)  # first max on ties
        alpha, back[t] = best + lp[t], arg
    state = n_states - 1 if alpha[-1] >= alpha[-2] or n_states < 2 else n_states - 2
    path = [state]
    for t in range(n_frames - 1, 0, -1):
        state -= int(back[t, state])
        path.append(state)
    return [ext[s] for s in reversed(path)]


def token_times(alignment: list[int], blank: int = 0) -> tuple[list[float], list[float]]:
    """Per aligned token (a run of equal non-blank labels): start = its first frame, end =
    the next token's start (the last: the end of the audio); an end more than twice the
    mean token duration away is pulled in to max(1.5 x mean, the run's own length)."""
    starts: list[float] = []
    runs: list[float] = []
    t, n = 0, len(alignment)
    while t < n:
        label = alignment[t]
        t += 1
        if label == blank:
            continue
        first = t
        starts.append(round(FRAME_S * first, 10))
        while t < n and alignment[t] == label:
            t += 1
        runs.append((t - first + 1) * FRAME_S)
    if not starts:
        return [], []
    ends = starts[1:] + [(FRAME_S * 1000 * n + 25) / 1000]
    mean = sum(e - s for s, e in zip(starts, ends)) / len(ends)
    ends = [round(s + max(1.5 * mean, r) if e - s > 2 * mean else e, 3) for s, e, r in zip(starts, ends, runs)]
    return starts, ends


def shifted(times: list[tuple[float, float]], duration: float) -> list[tuple[float, float]]:
    """FireRedASR2's final placement of (start, end) pairs: every time SHIFT_S earlier, inside
    [0, duration], a start never after the previous token's end."""
    out, last_end = [], duration
    for s, e in times:
        s = min(max(0.0, s - SHIFT_S), last_end)
        e = min(max(0.0, e - SHIFT_S), duration)
        last_end = e
        out.append((round(s, 3), round(e, 3)))
    return out


def words(pieces: list[str], spans: list[tuple[float, float]], probs: list[float]) -> list[tuple[str, float, float, float]]:
    """Tokens -> words, as FireRedASR2 merges its timestamps: a SentencePiece piece that
    starts a word ('▁') takes the Latin pieces after it; every other token (a Chinese
    character, a digit, a stray piece) is a word of its own. Returns (text, start, end,
    confidence = mean token probability); text keeps a leading space where a word starts
    with '▁', so joining the texts gives the detokenized transcript."""
    out = []
    i = 0
    while i < len(pieces):
        j = i + 1
        if pieces[i].startswith(SPM_SPACE):
            while j < len(pieces) and _LATIN.match(pieces[j]):
                j += 1
        text = "".join(pieces[i:j]).replace(SPM_SPACE, " ")
        out.append((text, spans[i][0], spans[j - 1][1], sum(probs[i:j]) / (j - i)))
        i = j
    return out
