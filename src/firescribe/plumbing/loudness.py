"""Loudness over time: mean absolute amplitude per 10 ms frame of 16 kHz PCM, and the
quietest point of a stretch. The plan cuts long speech there, FireRedASR's guard re-decode
halves a unit there, and the merge finds the pauses between words that timestamps hide."""

from __future__ import annotations

import numpy as np

from firescribe.plumbing.pcm import SAMPLE_RATE, open_pcm

HOP_S = 0.01  # seconds per loudness frame
WINDOW_S = 0.1  # the stretch whose loudness places a cut (about a syllable's gap)


def frame_energy(pcm: np.ndarray, hop_s: float = HOP_S) -> np.ndarray:
    """Mean absolute amplitude per ``hop_s`` frame (int16 input, memmap friendly)."""
    hop = int(hop_s * SAMPLE_RATE)
    n = len(pcm) // hop
    out = np.empty(n, dtype=np.float32)
    step = 360_000  # frames per block: bounded memory on long files
    for a in range(0, n, step):
        b = min(n, a + step)
        block = np.abs(np.asarray(pcm[a * hop : b * hop], dtype=np.float32)).reshape(b - a, hop)
        out[a:b] = block.mean(axis=1)
    return out


def quietest(energy: np.ndarray, lo_s: float, hi_s: float, window_s: float = WINDOW_S, hop_s: float = HOP_S) -> float | None:
    """Middle of the quietest ``window_s`` window inside [lo_s, hi_s] of a ``frame_energy``
    track, or None where the interval holds no whole window."""
    w = max(1, int(round(window_s / hop_s)))
    a, b = max(0, int(lo_s / hop_s)), min(len(energy), int(hi_s / hop_s))
    if b - a < w:
        return None
    smooth = np.convolve(energy[a:b], np.ones(w) / w, mode="valid")
    i = j = int(np.argmin(smooth))
    while j + 1 < len(smooth) and smooth[j + 1] <= smooth[i] + 1e-3:
        j += 1  # a flat minimum (digital silence): take its middle
    return (a + (i + j) / 2 + w / 2) * hop_s


class Loudness:
    """Loudness of a file over time (``frame_energy``), to find the pauses
    between words that their timestamps hide. Read from the (memory-mapped) PCM only where
    a cue needs splitting."""

    def __init__(self, pcm: np.ndarray, hop_s: float = HOP_S):
        self.pcm, self.hop_s = pcm, hop_s

    @classmethod
    def of_wav(cls, wav: str) -> Loudness:
        return cls(open_pcm(wav))

    def frames(self, a: float, b: float) -> np.ndarray:
        """Frame loudness from time ``a`` to ``b`` (whole 10 ms frames)."""
        hop = int(round(self.hop_s * SAMPLE_RATE))
        i, j = self.index(a), self.index(b)
        return frame_energy(self.pcm[i * hop : j * hop], self.hop_s)

    def index(self, t: float) -> int:
        """The frame that time ``t`` falls in."""
        return max(0, int(t / self.hop_s))
