"""Log-mel filterbank features with Kaldi-style global CMVN, as FireRedASR was trained with.

80 mel bins, 25 ms window, 10 ms shift, no dither, input on the int16 scale; then
``(x - mean) * inverse_std`` from the Kaldi CMVN statistics file ``cmvn.ark``.
"""

from __future__ import annotations

from pathlib import Path

import kaldi_native_fbank as knf
import numpy as np
import torch

from firescribe.fireredasr.errors import ModelFileError

SAMPLE_RATE = 16000
NUM_MEL_BINS = 80


def read_cmvn(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Kaldi global CMVN stats (2 x (dim+1) matrix) -> (mean, inverse std), float64 [dim]."""
    import kaldiio

    try:
        stats = np.asarray(kaldiio.load_mat(str(path)), dtype=np.float64)
    except Exception as exc:
        raise ModelFileError(path, f"not a Kaldi matrix file ({exc})") from exc
    if stats.ndim != 2 or stats.shape[0] != 2 or stats.shape[1] != NUM_MEL_BINS + 1:
        raise ModelFileError(path, f"expected CMVN stats of shape (2, {NUM_MEL_BINS + 1}), got {stats.shape}")
    count = stats[0, -1]
    if count < 1:
        raise ModelFileError(path, f"CMVN frame count is {count}")
    mean = stats[0, :-1] / count
    var = np.maximum(stats[1, :-1] / count - mean * mean, 1e-20)
    return mean, 1.0 / np.sqrt(var)


def fbank_options() -> knf.FbankOptions:
    """Kaldi filterbanks as the FireRed models (FireRedASR, FireRedVAD) were trained with:
    16 kHz, 25 ms windows every 10 ms (Kaldi's defaults), 80 mel bins, no dither."""
    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq = SAMPLE_RATE
    opts.frame_opts.dither = 0.0
    opts.frame_opts.snip_edges = True
    opts.mel_opts.num_bins = NUM_MEL_BINS
    opts.mel_opts.debug_mel = False
    return opts


class FbankCmvn:
    def __init__(self, cmvn_path: str | Path):
        self.mean, self.istd = read_cmvn(cmvn_path)
        self.opts = fbank_options()

    def __call__(self, audio: np.ndarray) -> torch.Tensor:
        """float32 audio in [-1, 1) at 16 kHz [samples] -> features [frames, 80] float32."""
        fbank = knf.OnlineFbank(self.opts)
        # the model was trained on int16-scale samples
        fbank.accept_waveform(SAMPLE_RATE, np.round(audio * 32768.0).astype(np.float32).tolist())
        n = fbank.num_frames_ready
        if n == 0:
            return torch.zeros(0, NUM_MEL_BINS, device="cpu")
        feats = np.stack([fbank.get_frame(i) for i in range(n)]).astype(np.float64)
        return torch.from_numpy((feats - self.mean) * self.istd).float()

    def batch(self, audios: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded features [N, T, 80] (zero padding) and lengths [N], on the CPU."""
        feats = [self(a) for a in audios]
        lengths = torch.tensor([f.shape[0] for f in feats], dtype=torch.long, device="cpu")
        padded = torch.zeros(len(feats), int(lengths.max()) if len(feats) else 0, NUM_MEL_BINS, device="cpu")
        for i, f in enumerate(feats):
            padded[i, : f.shape[0]] = f
        return padded, lengths
