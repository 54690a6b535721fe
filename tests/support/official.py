"""The official FireRedASR code (PyPI ``fireredasr`` 0.0.2) as the reference, and random-weight
checkpoints in the official release format built with the official model classes."""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import numpy as np
import torch

# fireredasr.models.fireredasr imports modelscope (hub download) and transformers (LLM variant)
# at module level; the AED path never calls them. Stand-ins let the module import offline.
_STANDINS = {
    "modelscope": {"snapshot_download": None},
    "transformers": {"AutoModelForCausalLM": None, "AutoTokenizer": None},
    "transformers.trainer_pt_utils": {"LabelSmoother": type("LabelSmoother", (), {"ignore_index": -100})},
}
for _name, _attrs in _STANDINS.items():
    try:
        __import__(_name)
    except ImportError:
        _mod = types.ModuleType(_name)
        _mod.__dict__.update(_attrs)
        sys.modules[_name] = _mod

from fireredasr.data.asr_feat import ASRFeatExtractor  # noqa: E402
from fireredasr.models.fireredasr import FireRedAsr, load_fireredasr_aed_model  # noqa: E402
from fireredasr.models.fireredasr_aed import FireRedAsrAed  # noqa: E402
from fireredasr.tokenizer.aed_tokenizer import ChineseCharEnglishSpmTokenizer  # noqa: E402

VOCAB = 7832  # FireRedASR-AED-L's vocabulary size
AED_L = dict(d_model=1280, n_head=20, d_inner=5120, n_layers_enc=16, n_layers_dec=16, kernel_size=33)
SMALL = dict(d_model=256, n_head=4, d_inner=1024, n_layers_enc=2, n_layers_dec=2, kernel_size=33)


def aed_args(size: dict) -> argparse.Namespace:
    return argparse.Namespace(
        idim=80, odim=VOCAB, pe_maxlen=5000, sos_id=3, eos_id=4, pad_id=2, blank_id=0,
        residual_dropout=0.1, dropout_rate=0.1, **size,
    )


def write_dict(path: Path, vocab: int = VOCAB, pieces: list[str] | None = None) -> list[str]:
    """A dict.txt of the release's shape: specials, CJK characters, English SentencePiece
    pieces (made-up ones unless given)."""
    tokens = ["<blank>", "<unk>", "<pad>", "<sos>", "<eos>", "<space>"]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if pieces is None:
        pieces = [f"\u2581{a}{b}" for a in letters for b in letters][:600] + [f"{a}{b}" for a in letters for b in letters][:400]
    cjk = [chr(0x4E00 + i) for i in range(vocab - len(tokens) - len(pieces))]
    tokens += cjk + pieces
    assert len(tokens) == vocab
    path.write_text("".join(f"{t} {i}\n" for i, t in enumerate(tokens)), encoding="utf-8")
    return tokens


def write_cmvn(path: Path, seed: int = 0) -> None:
    """Kaldi global CMVN stats of a plausible shape (means ~ 10, stds ~ 3 on log-mel)."""
    import kaldiio

    rng = np.random.default_rng(seed)
    count = 100000.0
    mean = rng.uniform(8, 14, 80)
    var = rng.uniform(4, 12, 80)
    stats = np.zeros((2, 81))
    stats[0, :80], stats[0, 80] = mean * count, count
    stats[1, :80] = (var + mean**2) * count
    kaldiio.save_mat(str(path), stats)


def official_v2_aed_class():
    """FireRedASR2's official AED class (``fireredasr2``, bundled in PyPI fasr-asr-firered).
    Its module imports torchaudio for CTC forced alignment, which PyPI only ships as CUDA
    builds that do not import beside torch 2.13.0+cpu; decoding does not use it."""
    try:
        import torchaudio  # noqa: F401
    except Exception:  # noqa: BLE001 - absent, or present but broken
        sys.modules["torchaudio"] = types.ModuleType("torchaudio")
    from fireredasr2.models.fireredasr_aed import FireRedAsrAed as FireRedAsr2Aed

    return FireRedAsr2Aed


def make_model_dir(
    path: Path, size: dict = SMALL, seed: int = 0, logit_std: float | None = 0.5, eos_boost: float = 5.0, version: int = 1
) -> Path:
    """A model folder in the release layout, with random weights from the official classes.

    The token embedding (tied to the output layer) is scaled so that logits have about
    ``logit_std`` spread, as in a trained model, rather than saturating; the decoder layers'
    output projections are scaled up so that the audio, not the previous token, drives the
    prediction (else a random decoder repeats its input token); ``eos_boost`` makes EOS likely
    enough that hypotheses end at varied lengths. ``version=2`` builds FireRedASR2-AED (the
    same network plus a CTC head) with its official class. ``logit_std=None`` keeps the official
    initialisation untouched (such a model never emits EOS: fixed-length decoding for benchmarks)."""
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    args = aed_args(size)
    model = (FireRedAsrAed if version == 1 else official_v2_aed_class()).from_args(args)
    if logit_std is not None:
        with torch.no_grad():
            emb = model.decoder.tgt_word_emb.weight
            emb.mul_(logit_std / size["d_model"] ** 0.5)
            emb[args.eos_id] *= eos_boost
            for layer in model.decoder.layer_stack:
                layer.cross_attn.fc.weight.mul_(16.0)
                layer.mlp.w_2.weight.mul_(16.0)
    torch.save({"args": args, "model_state_dict": model.state_dict()}, path / "model.pth.tar")
    write_cmvn(path / "cmvn.ark", seed)
    write_dict(path / "dict.txt")
    (path / "train_bpe1000.model").write_bytes(b"")  # unused by decoding; present as in the release
    return path


def official_asr(model_dir: Path) -> FireRedAsr:
    """The official pipeline built by hand (its from_pretrained always downloads)."""
    torch.serialization.add_safe_globals([argparse.Namespace])  # needed by the official loader under torch >= 2.6
    model = load_fireredasr_aed_model(str(model_dir / "model.pth.tar"))
    model.eval()
    tokenizer = ChineseCharEnglishSpmTokenizer(str(model_dir / "dict.txt"), "")
    return FireRedAsr("aed", ASRFeatExtractor(str(model_dir / "cmvn.ark")), model, tokenizer)
