"""The official FireRedPunc code (../shared/reference/fireredpunc-official) as the reference,
and random-weight FireRedPunc folders in the released layout built with its model class."""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import torch

from support.workflow import REPO

OFFICIAL = REPO.parent / "shared" / "reference" / "fireredpunc-official"
NOPUNC = OFFICIAL / "nopunc.txt"
LABELS = ["<space>", "，", "。", "？", "！"]  # out_dict: label 0 is "no punctuation"
SMALL_BERT = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128, max_position_embeddings=64)
BERT_BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512)


# the official code is not part of this project: it lies beside it, on this project's own
# machines (docs/development.md, "Tests that need ../shared/")
MISSING = (
    f"needs the official FireRedPunc code (FireRedASR2S's fireredpunc/, with nopunc.txt) in {OFFICIAL}, "
    "which is not part of this project: see docs/development.md, 'Tests that need ../shared/'"
)


def available() -> bool:
    return NOPUNC.is_file()


def official_module():
    if str(OFFICIAL) not in sys.path:
        sys.path.insert(0, str(OFFICIAL))
    from fireredpunc.punc import FireRedPunc, FireRedPuncConfig

    return FireRedPunc, FireRedPuncConfig


def vocab(n_chinese: int) -> list[str]:
    """A BERT vocabulary like chinese-bert-wwm-ext's: specials, the ``n_chinese`` most frequent
    characters of nopunc.txt (the rarer ones become [UNK]), digits, English words and pieces."""
    counts = collections.Counter(c for line in NOPUNC.read_text(encoding="utf-8").splitlines() for c in line if not c.isspace() and not c.isascii())
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["hello", "how", "are", "you", "ok", "the", "is", "'"]
    return list(dict.fromkeys(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [c for c, _ in counts.most_common(n_chinese)]
            + list("0123456789") + [f"##{d}" for d in "0123456789"] + list(letters) + [f"##{a}" for a in letters] + words))


def make_punc_dir(path: Path, bert: dict = SMALL_BERT, seed: int = 0, n_chinese: int = 1500) -> Path:
    """A FireRedPunc folder in the released layout (model.pth.tar, chinese-lert-base/,
    chinese-bert-wwm-ext_vocab.txt, out_dict) with random weights, built with the official class."""
    from transformers import BertConfig, BertModel

    official_module()
    from fireredpunc.models.fireredpunc_bert import FireRedPuncBert

    path.mkdir(parents=True, exist_ok=True)
    tokens = vocab(n_chinese)
    lert = path / "chinese-lert-base"
    lert.mkdir(exist_ok=True)
    (lert / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    (path / "chinese-bert-wwm-ext_vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    (path / "out_dict").write_text("".join(f"{t} {i}\n" for i, t in enumerate(LABELS)), encoding="utf-8")
    torch.manual_seed(seed)
    BertModel(BertConfig(vocab_size=len(tokens), **bert), add_pooling_layer=False).save_pretrained(lert)
    args = argparse.Namespace(pretrained_bert=str(lert), bert=None, classifier_dropout=0.1, odim=len(LABELS),
                              cls_id=tokens.index("[CLS]"), ignore_index=-100)
    model = FireRedPuncBert.from_args(args)
    with torch.no_grad():  # spread the classifier so that every label is predicted somewhere
        model.classifier.weight.normal_(0, 0.5)
        model.classifier.bias.copy_(torch.tensor([1.5, 0.0, 0.0, -0.5, -0.5]))
    args.bert = None
    torch.save({"args": args, "model_state_dict": model.state_dict()}, path / "model.pth.tar")
    return path


def official_punc(model_dir: Path, sentence_max_length: int = -1):
    FireRedPunc, FireRedPuncConfig = official_module()
    torch.serialization.add_safe_globals([argparse.Namespace])
    return FireRedPunc.from_pretrained(str(model_dir), FireRedPuncConfig(use_gpu=False, sentence_max_length=sentence_max_length))
