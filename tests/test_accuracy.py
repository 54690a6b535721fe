"""WER/CER against references, normalised as FireRedASR's published numbers."""

import pytest

from firescribe.text.accuracy import score, tokens, total

TEXTS = [
    "今天天气很好，我们去公园散步吧！",
    "Hello, World! It's 10:30 a.m. — time to go.",
    "我用 iPhone 15 Pro 拍了《三体》的封面。",
    "  混合 English 和 中文,  <unk> 还有（括号）和【方括号】…  ",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_tokens_equal_fireredasr_wer_script(text):
    from fireredasr.utils.wer import text2tokens

    assert tokens(text) == text2tokens(text)


def test_chinese_is_scored_per_character_whatever_the_spacing():
    s = score("今天天气很好。", "今 天 天 气 真 好")
    assert (s.metric, s.ref_tokens, s.substitutions, s.deletions, s.insertions) == ("cer", 6, 1, 0, 0)
    assert s.error_rate == pytest.approx(1 / 6)


def test_english_is_scored_per_word_ignoring_case_and_punctuation():
    s = score("The quick brown fox jumps.", "the quick brown box jumps over")
    assert (s.metric, s.ref_tokens, s.substitutions, s.deletions, s.insertions) == ("wer", 5, 1, 0, 1)
    assert s.errors == 2 and s.error_rate == pytest.approx(0.4)


def test_empty_hypothesis_is_all_deletions_and_corpus_rate_sums_errors():
    a = score("one two three four", "")
    b = score("five six", "five six")
    assert (a.deletions, a.error_rate) == (4, 1.0)
    corpus = total([a, b])
    # errors over all reference words (4/6), not the mean of per-file rates (0.5)
    assert corpus.error_rate == pytest.approx(4 / 6)
