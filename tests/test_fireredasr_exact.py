"""Our FireRedASR-AED against the official code: same checkpoint, same audio, same results."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from support import official

from firescribe.engines.fireredasr.beam_search import BeamParams
from firescribe.engines.fireredasr.errors import ModelFileError
from firescribe.engines.fireredasr.loader import load_model_dir
from firescribe.plumbing.pcm import open_pcm, to_float

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store today.",
    "Nine.",
    "We will meet at the station at nine in the morning, near the big clock.",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return official.make_model_dir(tmp_path_factory.mktemp("aed") / "FireRedASR-AED-small")


@pytest.fixture(scope="module")
def wavs(tmp_path_factory):
    d = tmp_path_factory.mktemp("wav")
    out = []
    for i, text in enumerate(TEXTS):
        raw, wav = d / f"raw{i}.wav", d / f"utt{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us" if i % 2 == 0 else "cmn", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-b", "16", "-c", "1", str(wav)], check=True)
        out.append(str(wav))
    return out


@pytest.fixture(scope="module")
def ours(model_dir):
    return load_model_dir(model_dir)


@pytest.fixture(scope="module")
def ref(model_dir):
    return official.official_asr(model_dir)


def audio(wav: str) -> np.ndarray:
    return to_float(np.asarray(open_pcm(wav)))


def test_features_equal_official(ours, ref, wavs):
    feats, lengths, _ = ref.feat_extractor(wavs)
    mine, my_lengths = ours.features.batch([audio(w) for w in wavs])
    assert torch.equal(lengths, my_lengths)
    assert torch.allclose(feats, mine, atol=1e-5, rtol=0), (feats - mine).abs().max()


@pytest.mark.parametrize("order", [[0], [0, 1, 2, 3], [2, 1], [3, 0, 2]])
def test_encoder_matches_official_with_padding(ours, ref, wavs, order):
    batch = [wavs[i] for i in order]
    feats, lengths, _ = ref.feat_extractor(batch)
    with torch.no_grad():
        ref_out, ref_lengths, ref_mask = ref.model.encoder(feats, lengths)
        out, mask = ours.model.encoder(feats, lengths)
    assert torch.equal(ref_mask.bool(), mask)
    assert torch.equal(ref_lengths, mask.sum(dim=(1, 2)))
    valid = mask[:, 0, :, None]
    err = ((ref_out - out).abs() * valid).max()
    assert err < 1e-4 * ref_out.abs().max(), err
    # each utterance's output does not depend on what it was batched with
    single, _ = ours.model.encoder(feats[:1, : lengths[0]], lengths[:1])
    n = int(mask[0].sum())
    assert torch.allclose(single[0, :n], out[0, :n], atol=1e-4)


def official_nbest(ref, feats, lengths, p: BeamParams) -> list[list[list[int]]]:
    with torch.no_grad():
        hyps = ref.model.transcribe(feats, lengths, p.beam_size, p.nbest, p.decode_max_len, p.softmax_smoothing, p.length_penalty, p.eos_penalty)
    return [[h["yseq"].tolist() for h in utt] for utt in hyps]


def teacher_forced_score(ref, enc, enc_mask, tokens: list[int], p: BeamParams, ended: bool) -> float:
    """The official decoder's log-probability of ``tokens`` (+ EOS if ``ended``), scored the
    way its beam search scores (smoothing, EOS penalty, GNMT length penalty)."""
    dec = ref.model.decoder
    ys = torch.tensor([[dec.sos_id] + tokens], dtype=torch.long)
    targets = tokens + ([dec.eos_id] if ended else [])
    with torch.no_grad():
        x = dec.tgt_word_emb(ys) * dec.scale + dec.positional_encoding(ys)
        mask = dec.ignored_target_position_is_0(ys, dec.pad_id)
        for layer in dec.layer_stack:
            x = layer(x, enc, mask, enc_mask, cache=None)
        logp = torch.log_softmax(dec.tgt_word_prj(dec.layer_norm_out(x)) / p.softmax_smoothing, dim=-1)[0]
    logp[:, dec.eos_id] *= p.eos_penalty
    score = float(sum(logp[i, t] for i, t in enumerate(targets)))
    if p.length_penalty > 0:
        score /= ((5 + len(tokens) + 1) / 6.0) ** p.length_penalty
    return score


PARAMS = [
    BeamParams(beam_size=1),
    BeamParams(beam_size=3, nbest=3),
    BeamParams(beam_size=3, nbest=1, softmax_smoothing=1.25, length_penalty=0.6),
    BeamParams(beam_size=3, nbest=2, softmax_smoothing=1.25, length_penalty=0.6, eos_penalty=0.7),
    BeamParams(beam_size=3, nbest=1, decode_max_len=20),
]


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: f"b{p.beam_size}n{p.nbest}s{p.softmax_smoothing}lp{p.length_penalty}e{p.eos_penalty}m{p.decode_max_len}")
# every setting on two files in make check; on all four (12 s of CPU more) in the whole suite
@pytest.mark.parametrize("order", [pytest.param([0, 1, 2, 3], marks=pytest.mark.slow), [2, 0]])
def test_beam_search_matches_official(ours, ref, wavs, p, order):
    batch = [wavs[i] for i in order]
    feats, lengths, _ = ref.feat_extractor(batch)
    expected = official_nbest(ref, feats, lengths, p)
    got = ours.model.transcribe(feats, lengths, p)
    assert [[h.tokens for h in utt] for utt in got] == expected

    with torch.no_grad():
        enc, _, enc_mask = ref.model.encoder(feats, lengths)
    max_len = p.decode_max_len or enc.shape[1]
    for i, utt in enumerate(got):
        n = int(enc_mask[i].sum())
        for h in utt:
            ended = len(h.tokens) < max_len
            want = teacher_forced_score(ref, enc[i : i + 1, :n], enc_mask[i : i + 1, :, :n], h.tokens, p, ended)
            assert h.score == pytest.approx(want, abs=2e-3, rel=1e-4)


def test_hypotheses_end_at_varied_lengths(ours, ref, wavs):
    """Guards the test model: EOS must occur, else the ending logic goes untested."""
    feats, lengths, _ = ref.feat_extractor(wavs)
    got = ours.model.transcribe(feats, lengths, BeamParams(beam_size=3))
    lengths_out = {len(u[0].tokens) for u in got}
    t_enc = (int(lengths.max()) - 1) // 4
    assert any(n < t_enc - 2 for n in lengths_out), lengths_out


def test_detokenize_matches_official_tokenizer(ours, ref):
    rng = random.Random(0)
    n = len(ours.tokens)
    for _ in range(50):
        ids = [rng.randrange(5, n) for _ in range(rng.randint(0, 30))]
        assert ours.tokens.detokenize(ids) == ref.tokenizer.detokenize(ids)
    # a mixed sentence: CJK characters then English pieces with word-start marks
    cjk = [i for i, t in enumerate(ours.tokens.id2token) if "\u4e00" <= t[:1] <= "\u9fff"][:3]
    eng = [i for i, t in enumerate(ours.tokens.id2token) if t.startswith("\u2581")][:2]
    text = ours.tokens.detokenize(cjk + eng)
    assert text == ref.tokenizer.detokenize(cjk + eng)
    assert " " in text and not text.startswith(" ")


def test_weights_are_memory_mapped(ours, model_dir):
    """Parameters point into a mapping of model.pth.tar (page cache, shared across processes)."""
    ckpt = str((model_dir / "model.pth.tar").resolve())
    ranges = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        if line.endswith(ckpt):
            a, b = (int(x, 16) for x in line.split()[0].split("-"))
            ranges.append((a, b))
    assert ranges, "model.pth.tar is not memory-mapped"
    for w in (ours.model.encoder.layer_stack[0].ffn1.net[1].weight, ours.model.decoder.tgt_word_prj.weight):
        assert any(a <= w.data_ptr() < b for a, b in ranges)


def test_bad_model_files_name_the_file(tmp_path, model_dir):
    import shutil

    with pytest.raises(ModelFileError, match="model folder does not exist"):
        load_model_dir(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "cmvn.ark").unlink()
    with pytest.raises(ModelFileError, match=r"cmvn\.ark: missing"):
        load_model_dir(broken)
    shutil.copy(model_dir / "cmvn.ark", broken / "cmvn.ark")
    (broken / "model.pth.tar").write_bytes(b"this is not a checkpoint")
    with pytest.raises(ModelFileError, match=r"model\.pth\.tar: not a loadable PyTorch checkpoint"):
        load_model_dir(broken)
    # a pickle that would run code is refused by weights_only loading
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(broken / "model.pth.tar", "wb") as f:
        pickle.dump({"args": Evil(), "model_state_dict": {}}, f)
    with pytest.raises(ModelFileError, match=r"model\.pth\.tar"):
        load_model_dir(broken)
    shutil.copy(model_dir / "model.pth.tar", broken / "model.pth.tar")
    (broken / "dict.txt").write_text("<blank> 0\n<unk> 1\n")
    with pytest.raises(ModelFileError, match=r"dict\.txt: has 2 tokens but the model outputs 7832"):
        load_model_dir(broken)
