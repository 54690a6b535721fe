"""Hotwords: list files, the context graph's bonuses (values worked out by hand), the biased
beam search on a random-weight FireRedASR-AED checkpoint (torch and ONNX Runtime), and
whisper's hotword prompt on the real tiny.en model.

Random weights cannot tell how much hotwords help a trained FireRedASR model (nor how often
they cause false alarms): benchmarks/hotword_recall.py measures that on a user's own data.
"""

from __future__ import annotations

import dataclasses
import io
import logging

import numpy as np
import pytest
import torch
from support import media, official
from support.settings import firered_options, whisper_options

from firescribe.engines.fireredasr.beam_search import BeamParams, beam_search
from firescribe.engines.fireredasr.context import ROOT, ContextGraph
from firescribe.engines.fireredasr.loader import load_model_dir
from firescribe.engines.fireredasr.tokenizer import TextTokenizer, TokenDict
from firescribe.text.hotwords import Hotword, HotwordsError, checksum, combine, load_hotwords, read_hotwords

# ---------------------------------------------------------------- list files


def test_list_file_format(tmp_path):
    f = tmp_path / "hot.txt"
    f.write_text("火山引擎\n\n# a comment\n  FireRedASR :2.5 \nLarge   Language Model\n火山引擎 :0.5\n", encoding="utf-8")
    assert read_hotwords(f) == [Hotword("火山引擎", 0.5), Hotword("FireRedASR", 2.5), Hotword("Large Language Model")]


def test_a_file_list_adds_to_the_corpus_list_and_overrides_its_weights(tmp_path):
    corpus = [Hotword("火山引擎"), Hotword("Snakemake", 2.0)]
    own = [Hotword("Snakemake", 3.0), Hotword("张小明")]
    assert combine(corpus, own) == [Hotword("火山引擎"), Hotword("Snakemake", 3.0), Hotword("张小明")]
    (tmp_path / "a.txt").write_text("火山引擎\nSnakemake :2\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Snakemake :3\n张小明\n", encoding="utf-8")
    both = load_hotwords(tmp_path / "a.txt", None, tmp_path / "b.txt")
    assert both == combine(corpus, own)
    assert checksum(both) != checksum(load_hotwords(tmp_path / "a.txt")) and checksum([]) is None


def test_bad_lists_name_the_file_and_the_line(tmp_path, caplog):
    with pytest.raises(HotwordsError, match=r"hotword list '.*missing\.txt' does not exist"):
        read_hotwords(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("ok\nword :1.2.3\n", encoding="utf-8")
    with pytest.raises(HotwordsError, match=r"bad\.txt' line 2: weight '1\.2\.3' is not a number"):
        read_hotwords(bad)
    bad.write_text("word :-1\n", encoding="utf-8")
    with pytest.raises(HotwordsError, match="line 1: weight -1.0 is negative"):
        read_hotwords(bad)
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(HotwordsError, match="cannot be read"):
        read_hotwords(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n# nothing yet\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert read_hotwords(empty) == []
    assert "holds no hotwords" in caplog.text


# ---------------------------------------------------------------- the context graph


def walk(graph: ContextGraph, tokens: list[int]) -> tuple[list[float], float]:
    """Per-token bonuses of a hypothesis, and the final bonus when it ends (EOS)."""
    state, steps = ROOT, []
    for t in tokens:
        bonus, state = graph.step_bonus(state, t)
        steps.append(round(bonus, 6))
    return steps, round(graph.final_bonus(state), 6)


# ABC and BD (weight 1 per token), AB (0.5: a prefix of ABC), E alone (2)
A, B, C, D, E, X = 1, 2, 3, 4, 5, 9
GRAPH = ContextGraph([([A, B, C], 1.0), ([B, D], 1.0), ([A, B], 0.5), ([E], 2.0)], vocab_size=10)


@pytest.mark.parametrize(
    "tokens, steps, final",
    [
        ([A, B, C], [1, 1, 1], 0),  # ABC completed: 3 x 1 kept
        ([A, X], [1, -1], 0),  # a partial match that breaks off leaves nothing
        ([A, B], [1, 1], -1),  # ends inside ABC: AB's own bonus (2 x 0.5) is kept, 1 taken back
        ([A, B, X], [1, 1, -1], 0),  # the same, broken off by X
        ([A, E], [1, 1], 0),  # A taken back (-1), E matched and completed (+2)
        ([A, B, D], [1, 1, 1], 0),  # overlapping: AB kept (1) + BD (2)
        ([X, B, D, X], [0, 1, 1, 0], 0),  # BD completed; X after it takes nothing back
        ([A, B, C, A, B, C], [1, 1, 1, 1, 1, 1], 0),  # each occurrence counts
    ],
)
def test_bonuses_by_hand(tokens, steps, final):
    assert walk(GRAPH, tokens) == (steps, final)


def test_the_bonus_matrix_is_the_step_bonus_of_every_token():
    states = list(range(len(GRAPH)))
    eos = 8
    bonus = GRAPH.bonus(states, eos, torch.device("cpu"), torch.float32)
    assert bonus.shape == (len(states), 10)
    for r, s in enumerate(states):
        for t in range(10):
            expected = GRAPH.final_bonus(s) if t == eos else GRAPH.step_bonus(s, t)[0]
            assert bonus[r, t].item() == pytest.approx(expected), (s, t)


def test_empty_sequences_and_zero_weights_add_nothing():
    assert len(ContextGraph([([], 1.0), ([A, B], 0.0)], vocab_size=10)) == 1  # the root alone


# ---------------------------------------------------------------- the tokenizer


def spm_model_dir(path):
    """A model folder whose dict.txt holds the pieces of a small SentencePiece model trained
    here on English text (the release's train_bpe1000.model cannot be downloaded)."""
    import sentencepiece

    model_dir = official.make_model_dir(path)
    text = [s.upper().replace(".", "").replace(",", "") for s in media.SENTENCES] + ["FIRESCRIBE TRANSCRIBES SNAKEMAKE WORKFLOWS"]
    proto = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(text * 20), model_writer=proto, vocab_size=200, model_type="bpe", character_coverage=1.0, minloglevel=2
    )
    (model_dir / "train_bpe1000.model").write_bytes(proto.getvalue())
    sp = sentencepiece.SentencePieceProcessor(model_proto=proto.getvalue())
    pieces = [sp.id_to_piece(i) for i in range(3, sp.get_piece_size())]  # not <unk>, <s>, </s>
    official.write_dict(model_dir / "dict.txt", pieces=pieces)
    return model_dir


@pytest.fixture(scope="module")
def spm_dir(tmp_path_factory):
    return spm_model_dir(tmp_path_factory.mktemp("spm") / "model")


def test_tokens_split_as_the_official_tokenizer_splits_them(spm_dir):
    tokens = TokenDict(spm_dir / "dict.txt")
    ours = TextTokenizer(tokens, spm_dir / "train_bpe1000.model")
    official_tok = official.ChineseCharEnglishSpmTokenizer(str(spm_dir / "dict.txt"), str(spm_dir / "train_bpe1000.model"))
    for text in ["一丁七", "firescribe", "Snakemake 丈三上", "丁 Quick, brown 七。fox!", "  the  lazy dog  "]:
        expected, expected_ids = official_tok.tokenize(text)
        assert ours.tokenize(text) == expected, text
        assert ours.encode(text) == expected_ids, text
    assert ours.encode("カタカナ") is None  # not in the vocabulary


# ---------------------------------------------------------------- the biased search


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    loaded = load_model_dir(official.make_model_dir(tmp_path_factory.mktemp("aed") / "model"))
    rng = np.random.default_rng(1)
    audio = [(rng.standard_normal(int(16000 * s)) * 3000).astype(np.int16) for s in (3.0, 1.7, 2.4)]
    feats, lengths = loaded.features.batch(audio)
    with torch.inference_mode():
        enc, mask = loaded.model.encoder(feats, lengths)
    return loaded, enc, mask


SEARCH = BeamParams(beam_size=3, nbest=3, decode_max_len=20, softmax_smoothing=1.25, length_penalty=0.0)


def search(model, context=None, params=SEARCH):
    loaded, enc, mask = model
    with torch.inference_mode():
        return beam_search(loaded.model.decoder, enc, mask, params, context)


def occurs(span: list[int], tokens: list[int]) -> bool:
    return any(tokens[i : i + len(span)] == span for i in range(len(tokens) - len(span) + 1))


def test_no_hotwords_leave_the_official_search_unchanged(model):
    """An empty graph (no hotwords, or all of weight 0) gives the same hypotheses and scores,
    bit for bit; the parity tests with the official code run without a graph."""
    plain = search(model)
    empty = search(model, ContextGraph([([7, 8], 0.0)], len(model[0].tokens)))
    assert [[(h.tokens, h.score, h.token_probs) for h in u] for u in empty] == [[(h.tokens, h.score, h.token_probs) for h in u] for u in plain]


def test_a_hotword_surfaces_where_the_models_scores_are_close(model):
    """Per utterance, a span of the runner-up hypothesis that the best one lacks, as a hotword
    of the default weight: the best hypothesis now holds it."""
    plain = search(model)
    for i, utt in enumerate(plain):
        best, runner_up = utt[0].tokens, utt[1].tokens
        span = next(runner_up[j : j + n] for n in range(1, len(runner_up) + 1) for j in range(len(runner_up)) if not occurs(runner_up[j : j + n], best))
        biased = search(model, ContextGraph([(span, 1.5)], len(model[0].tokens)))[i][0]
        assert occurs(span, biased.tokens) and not occurs(span, best)


def test_only_completed_hotwords_keep_their_bonus(model):
    """The final score is the model's plus the bonus of the completed hotwords (a tiny weight,
    so that the hypotheses stay those of the unbiased search); a hotword that hypotheses only
    start leaves their scores the model's own, at EOS or cut off at decode_max_len."""
    plain = search(model)
    best = plain[0][0]
    run, w = best.tokens[:2], 1e-4  # best: a token repeated 6 times, then another one
    assert run[0] == run[1] == best.tokens[5] != best.tokens[6]
    completed = search(model, ContextGraph([(run, w)], len(model[0].tokens)))[0][0]
    assert completed.tokens == best.tokens
    assert completed.token_probs == best.token_probs  # the model's own, without the bonus
    n_repeats = next(j for j, t in enumerate(best.tokens) if t != run[0])
    # n repeats hold n - 1 overlapping occurrences of the two-token hotword, 2 w each
    assert completed.score == pytest.approx(best.score + (n_repeats - 1) * 2 * w, abs=2e-5)
    # these hypotheses stop at decode_max_len without EOS: a score is the sum of log-probabilities
    assert best.score == pytest.approx(float(np.log(best.token_probs).sum()), abs=2e-4)
    never = next(t for t in range(10, 20) if t not in best.tokens)
    for utt in search(model, ContextGraph([(run + [never], 0.5)], len(model[0].tokens))):
        for started in utt:  # the partial bonus may steer the search, but none of it is left
            assert started.score == pytest.approx(float(np.log(started.token_probs).sum()), abs=2e-4)


def test_torch_and_onnx_runtime_give_the_same_tokens_with_hotwords(model, tmp_path):
    from firescribe.engines.fireredasr.ort import OnnxAed
    from firescribe.engines.fireredasr.prepared import read_manifest
    from firescribe.steps.prepare_model import prepare

    loaded, enc, mask = model
    prepare(loaded.model_dir, tmp_path / "onnx", "onnxruntime-fp32")
    _, cfg = read_manifest(tmp_path / "onnx", "onnxruntime-fp32")
    onnx = OnnxAed(tmp_path / "onnx", cfg, threads=2)
    plain = search(model)
    context = ContextGraph([(plain[1][1].tokens[3:6], 1.5), (plain[2][2].tokens[:2], 1.0)], len(loaded.tokens))
    rng = np.random.default_rng(1)
    audio = [(rng.standard_normal(int(16000 * s)) * 3000).astype(np.int16) for s in (3.0, 1.7, 2.4)]
    feats, lengths = loaded.features.batch(audio)
    expected = loaded.model.transcribe(feats, lengths, SEARCH, context=context)
    got = onnx.transcribe(feats, lengths, SEARCH, context=context)
    assert [[h.tokens for h in u] for u in got] == [[h.tokens for h in u] for u in expected]
    assert np.allclose([h.score for u in got for h in u], [h.score for u in expected for h in u], atol=1e-4)
    assert [[h.tokens for h in u] for u in expected] != [[h.tokens for h in u] for u in plain]  # the bias acted


def test_the_backend_skips_hotwords_outside_the_vocabulary(spm_dir, caplog):
    from firescribe.engines.backends.fireredasr import FireRedAedBackend

    options = firered_options(spm_dir, decode_max_len=5)
    hotwords = [Hotword("丁七"), Hotword("Snakemake"), Hotword("カタカナ"), Hotword("丁", 0.0)]
    with caplog.at_level(logging.WARNING):
        backend = FireRedAedBackend(options, threads=1, hotwords=hotwords)
    assert "'カタカナ' skipped" in caplog.text
    assert backend.describe()["hotwords"] == {"count": 4, "sha256": checksum(hotwords), "used": 2}
    nothing = FireRedAedBackend(dataclasses.replace(options, hotword_weight=0.0), threads=1, hotwords=hotwords[:2])
    assert nothing.context is None  # weight 0: the official search


# ---------------------------------------------------------------- whisper


WHISPER = whisper_options()
TERMS = ["Firescribe", "Snakemake", "Xiaoming Zhang", "Kubernetes", "Qwen", "vLLM", "Hangzhou", "FireRedASR"]
SAID = [
    "Our new tool is called Firescribe and it runs on Snakemake.",
    "Doctor Xiaoming Zhang spoke about Kubernetes at the meeting.",
    "We deployed the Qwen model with vLLM on the cluster.",
    "The speaker from Hangzhou mentioned FireRedASR twice.",
]


@pytest.mark.media_tools
def test_whisper_spells_the_hotwords_it_is_given(tmp_path):
    """tiny.en (a trained model) on synthesized speech, batched as the workflow runs it: with
    the hotwords as its prompt it spells most of the names it misheard without them, and
    writes none of them into sentences that do not say them."""
    from firescribe.engines.backends.whisper import WhisperBackend
    from firescribe.plumbing.pcm import open_pcm, to_float

    audio = []
    for i, sentence in enumerate(SAID + media.SENTENCES[:3]):
        media.speak(sentence, tmp_path / f"{i}.wav")
        audio.append(to_float(open_pcm(tmp_path / f"{i}.wav")))
    plain = [" ".join(s.text for s in u) for u in WhisperBackend(WHISPER, 2).transcribe(audio, "en")]
    hot = WhisperBackend(WHISPER, 2, hotwords=[Hotword(t) for t in TERMS])
    biased = [" ".join(s.text for s in u) for u in hot.transcribe(audio, "en")]

    def found(texts):
        return sum(term in text for term in TERMS for text, said in zip(texts, SAID) if term in said)

    assert found(biased) >= 6 and found(plain) <= 3, (plain, biased)
    assert not any(term in text for term in TERMS for text in biased[len(SAID) :]), biased
    assert hot.describe()["hotwords"]["count"] == len(TERMS)


def test_occurrences_and_hotword_score():
    from firescribe.text.accuracy import hotword_score, occurrences

    assert occurrences("火山引擎", "我们用火山 引擎，还有火山引擎。") == 2
    assert occurrences("Qwen", "the QWEN model, qwen2 and Qwen.") == 2  # whole words only
    score = hotword_score([("火山引擎 and Qwen", "火山引擎 and Q when", ["火山引擎", "Qwen"]), ("nothing", "Qwen Qwen", ["Qwen"])])
    assert (score.in_reference, score.found, score.false_alarms, score.recall) == (2, 1, 2, 0.5)


@pytest.mark.media_tools
def test_the_recall_script_measures_the_gain_on_a_users_sheet(tmp_path):
    """benchmarks/hotword_recall.py as the README shows it, on a sheet of synthesized speech
    with references, whisper tiny.en (the default config): the run with hotwords finds more
    of them, adds none, and has a lower WER."""
    import subprocess
    import sys

    import pandas as pd
    from support.workflow import REPO

    lines = ["sample\tpath\treference"]
    for i, sentence in enumerate(SAID + media.SENTENCES[:1]):
        media.speak(sentence, tmp_path / f"s{i}.wav")
        (tmp_path / f"s{i}.txt").write_text(sentence, encoding="utf-8")
        lines.append(f"s{i}\ts{i}.wav\ts{i}.txt")
    (tmp_path / "samples.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "hotwords.txt").write_text("\n".join(TERMS) + "\n", encoding="utf-8")
    cmd = [sys.executable, str(REPO / "benchmarks" / "hotword_recall.py"), "--samples", "samples.tsv", "--hotwords", "hotwords.txt", "--out", "check", "--cores", "2"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(tmp_path / "check" / "hotword_recall.tsv", sep="\t").set_index("run")
    assert table.loc["with", "hotwords_in_references"] == table.loc["without", "hotwords_in_references"] == len(TERMS)
    assert table.loc["with", "recall"] >= 0.75 > table.loc["without", "recall"] + 0.25
    assert table.loc["with", "false_alarms"] == 0
    assert table.loc["with", "wer"] < table.loc["without", "wer"]
    assert "recall" in proc.stdout


def test_the_example_list_is_one_whisper_takes_as_it_is():
    """The demo runs whisper, which has no per-word weights: the example list (the README's
    and docs/hotwords.md's recipe) gives none, so it earns no warning that they do not apply."""
    from support.workflow import REPO

    from firescribe.text.hotwords import read_hotwords

    words = read_hotwords(str(REPO / "example" / "hotwords.txt"))
    assert [h.text for h in words] == ["Stella", "sea shells"] and all(h.weight is None for h in words)
