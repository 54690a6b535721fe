"""FireRedPunc (firescribe.text.punctuation) against the official code (../shared/reference), on a
random-weight model in the released layout: the same punctuated text on the lines of the
official nopunc.txt, mixed Chinese/English, digits, characters the vocabulary lacks, and with
word times (sentence_max_length off and on)."""

from __future__ import annotations

import pathlib
import random

import pytest
import torch
from support import punc_official

from firescribe.text.punctuation import FireRedPunc, PunctuationModelError, fix_text, restore_unknown

pytestmark = pytest.mark.skipif(not punc_official.available(), reason=punc_official.MISSING)

EXTRA = [
    "hello how are you 我们 ok i'm fine",  # mixed, the pronoun rule
    "价格是xyz123元 蜉蝣你好",  # digits and letters as pieces, characters the vocabulary lacks
    "寄蜉蝣于天地渺沧海之一粟how are you魑魅魍魉你蝣蜉啊蝣",
    "蜉蝣", "i", "ok", "2024年3月5日 下午3点",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return punc_official.make_punc_dir(tmp_path_factory.mktemp("punc") / "FireRedPunc")


@pytest.fixture(scope="module")
def ours(model_dir):
    return FireRedPunc(model_dir)


def lines(n: int) -> list[str]:
    all_lines = [x for x in punc_official.NOPUNC.read_text(encoding="utf-8").splitlines() if x.strip()]
    return random.Random(0).sample(all_lines, n) + EXTRA


def test_text_equals_official(model_dir, ours):
    official = punc_official.official_punc(model_dir)
    texts = lines(300)
    for i in range(0, len(texts), 16):  # batches of 16, as a batch_size of 16 would give
        batch = texts[i : i + 16]
        expected = [r["punc_text"] for r in official.process(batch)]
        assert ours.punctuate(batch) == expected, batch


def test_unknown_characters_are_restored(ours):
    pieces = ours.tokenizer.tokenize("蜉蝣你好")
    assert "[UNK]" in pieces and restore_unknown("蜉蝣你好", pieces) == ["蜉", "蝣", "你", "好"]


@pytest.mark.parametrize("sentence_max_length", [-1, 8, 20])
def test_words_with_times_equal_official(model_dir, ours, sentence_max_length):
    official = punc_official.official_punc(model_dir, sentence_max_length)
    batch = []
    for text in lines(60):
        words = [w for part in text.lower().split() for w in ([part] if part.isascii() else list(part))]
        batch.append([(w, round(0.3 * k, 2), round(0.3 * k + 0.25, 2)) for k, w in enumerate(words)])
    for i in range(0, len(batch), 8):
        chunk = batch[i : i + 8]
        expected = [[(s["punc_text"], s["start_s"], s["end_s"]) for s in r["punc_sentences"]] for r in official.process_with_timestamp(chunk)]
        assert ours.punctuate_words(chunk, sentence_max_length) == expected, chunk


def test_sentence_max_length_bounds_sentences(ours):
    words = [(c, 0.2 * k, 0.2 * k + 0.2) for k, c in enumerate("我们今天去公园玩了很久然后回家吃饭看电视再睡觉" * 3)]
    for text, _, _ in ours.punctuate_words([words], 10)[0]:
        assert len(text.rstrip("，。？！,.?!")) <= 10


def test_rules_of_casing_and_english_marks():
    assert fix_text("hello，world。i'm here") == "Hello, world. I'm here"
    assert fix_text("他说ok。then") == "他说ok. Then"


def test_missing_and_unsafe_files_name_the_file(model_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "out_dict").unlink()
    with pytest.raises(PunctuationModelError, match="out_dict: missing"):
        FireRedPunc(broken)
    shutil.copytree(model_dir, tmp_path / "unsafe")
    package = torch.load(model_dir / "model.pth.tar", weights_only=False)
    package["args"].evil = pathlib.PurePosixPath("x")  # an object weights_only refuses to unpickle
    torch.save(package, tmp_path / "unsafe" / "model.pth.tar")
    with pytest.raises(PunctuationModelError, match="model.pth.tar: not a FireRedPunc checkpoint"):
        FireRedPunc(tmp_path / "unsafe")
    (tmp_path / "unsafe" / "model.pth.tar").write_bytes(b"not a checkpoint")
    with pytest.raises(PunctuationModelError, match="model.pth.tar: not a FireRedPunc checkpoint"):
        FireRedPunc(tmp_path / "unsafe")


def test_int8_keeps_the_text_and_punctuates(model_dir, ours):
    """precision int8 (BERT's linear layers quantized): its marks may differ from fp32's, the
    words may not."""
    int8 = FireRedPunc(model_dir, "int8")
    texts = lines(40)

    def bare(t: str) -> str:
        return "".join(c for c in t.lower() if c.isalnum())

    out = int8.punctuate(texts)
    assert [bare(t) for t in out] == [bare(t) for t in ours.punctuate(texts)]
    assert any(mark in t for t in out for mark in "，。？！,.?!")
