"""Log-mel filterbank features with Kaldi-style global CMVN, as FireRedASR was trained with.

80 mel bins, 25 ms window, 10 ms shift, no dither, input on the int16 scale; then
``(x - mean) * inverse_std`` from the Kaldi CMVN statistics file ``cmvn.ark``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import kaldi_native_fbank as knf
import kaldiio
import numpy as np
import torch

from firescribe.engines.fireredasr.errors import ModelFileError

SAMPLE_RATE = 16000
NUM_MEL_BINS = 80


def read_cmvn(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Kaldi global CMVN stats (2 x (dim+1) matrix) -> (mean, inverse std), float64 [dim]."""
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


@dataclass(frozen=True)
class FbankTables:
    """What a vectorised Kaldi filterbank needs beside ``fbank_options``, taken from
    kaldi-native-fbank itself (its window and mel banks, not a re-derivation): frame length
    and shift in samples, FFT size, pre-emphasis, the window [length] and the mel banks
    [fft/2+1, mels] in float64, and the log floor (float32's epsilon, as knf)."""

    length: int
    shift: int
    fft: int
    preemph: float
    window: np.ndarray
    banks: np.ndarray
    floor: float

    def frames(self, n_samples: int) -> int:
        """Whole frames in ``n_samples`` (``snip_edges``)."""
        return 0 if n_samples < self.length else 1 + (n_samples - self.length) // self.shift


@cache
def fbank_tables() -> FbankTables:
    """The tables of ``fbank_options()`` (checked to be the settings the vectorised paths compute)."""
    opts = fbank_options()
    frame = opts.frame_opts
    if not (frame.snip_edges and frame.remove_dc_offset and frame.dither == 0 and opts.use_power and opts.use_log_fbank and not opts.use_energy):
        raise ValueError("the vectorised filterbanks compute the FireRed models' settings only")
    length = int(frame.samp_freq * frame.frame_length_ms / 1000)
    return FbankTables(
        length=length,
        shift=int(frame.samp_freq * frame.frame_shift_ms / 1000),
        fft=1 << (length - 1).bit_length() if frame.round_to_power_of_two else length,
        preemph=frame.preemph_coeff,
        window=np.asarray(knf.FeatureWindowFunction(frame).window, dtype=np.float64),
        banks=np.asarray(knf.MelBanks(opts.mel_opts, frame, 1.0).get_matrix(), dtype=np.float64).T,
        floor=float(np.finfo(np.float32).eps),
    )


def torch_fbank(samples: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Kaldi's log-mel filterbank (``fbank_options``) of int16-scale ``samples`` [N, S] (padded;
    ``lengths`` [N] samples) in float32 on their device: [N, F, 80] for the longest input's F
    frames (frames past an input's own are garbage: the caller masks them). Per frame, as Kaldi:
    DC offset removed, pre-emphasis (first sample against itself), povey window, 512-point
    power spectrum, mel banks, log floored at float32's epsilon. kaldi-native-fbank computes
    the same in float32 with another FFT: tests/test_device.py measures the difference."""
    t = fbank_tables()
    device = samples.device
    frames = samples.float().unfold(1, t.length, t.shift)  # [N, F, length]
    frames = frames - frames.mean(dim=-1, keepdim=True)
    previous = torch.cat([frames[..., :1], frames[..., :-1]], dim=-1)
    frames = (frames - t.preemph * previous) * torch.from_numpy(t.window).to(device, torch.float32)
    power = torch.fft.rfft(frames, n=t.fft, dim=-1).abs().square()  # [N, F, fft/2+1]
    mel = power @ torch.from_numpy(t.banks).to(device, torch.float32)
    return mel.clamp_min(t.floor).log()


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

    def device_batch(self, audios: list[np.ndarray], device: str | torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """As ``batch``, computed on ``device`` in torch (``torch_fbank``): the audio goes to the
        device once, as int16-scale float32; features [N, T, 80] float32 and lengths [N] there."""
        t = fbank_tables()
        n_frames = [t.frames(len(a)) for a in audios]
        width = max(n_frames, default=0)
        samples = torch.zeros(len(audios), (width - 1) * t.shift + t.length if width else 0, device="cpu")
        for i, a in enumerate(audios):
            used = min(len(a), samples.shape[1])
            samples[i, :used] = torch.from_numpy(np.round(np.asarray(a[:used], dtype=np.float32) * 32768.0))
        lengths = torch.tensor(n_frames, dtype=torch.long, device="cpu").to(device)
        samples = samples.to(device)
        if width == 0:
            return torch.zeros(len(audios), 0, NUM_MEL_BINS, device=device), lengths
        mean = torch.from_numpy(self.mean).to(device, torch.float32)
        istd = torch.from_numpy(self.istd).to(device, torch.float32)
        feats = (torch_fbank(samples, lengths) - mean) * istd
        valid = torch.arange(width, device=device)[None, :] < lengths[:, None]
        return feats.masked_fill(~valid[..., None], 0.0), lengths

    def batch(self, audios: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded features [N, T, 80] (zero padding) and lengths [N], on the CPU."""
        feats = [self(a) for a in audios]
        lengths = torch.tensor([f.shape[0] for f in feats], dtype=torch.long, device="cpu")
        padded = torch.zeros(len(feats), int(lengths.max()) if len(feats) else 0, NUM_MEL_BINS, device="cpu")
        for i, f in enumerate(feats):
            padded[i, : f.shape[0]] = f
        return padded, lengths
