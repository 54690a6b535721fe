"""FireRedASR2-AED (v2) through our engine against its official code (``fireredasr2``):
the same random checkpoint of the official format, the same audio, the same results."""

from __future__ import annotations

import subprocess

import pytest
import torch
from support import official

from firescribe.engines.fireredasr.beam_search import BeamParams
from firescribe.engines.fireredasr.loader import load_model_dir
from firescribe.plumbing.pcm import open_pcm, to_float

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg

TEXTS = ["The quick brown fox jumps over the lazy dog.", "我们明天早上九点在车站见面。", "Nine."]
PARAMS = [
    BeamParams(beam_size=1),
    BeamParams(beam_size=3, nbest=1, softmax_smoothing=1.25, length_penalty=0.6),
    BeamParams(beam_size=3, nbest=1, softmax_smoothing=1.0, length_penalty=0.6, eos_penalty=0.95, decode_max_len=12),
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("aed2")
    model_dir = official.make_model_dir(root / "FireRedASR2-AED-small", version=2)
    wavs = []
    for i, text in enumerate(TEXTS):
        raw, wav = root / f"raw{i}.wav", root / f"utt{i}.wav"
        subprocess.run(["espeak-ng", "-v", "cmn" if i == 1 else "en-us", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-b", "16", "-c", "1", str(wav)], check=True)
        wavs.append(wav)
    ours = load_model_dir(model_dir)
    ref = official.official_v2_aed_class().from_args(torch.load(model_dir / "model.pth.tar", weights_only=False)["args"])
    ref.load_state_dict(torch.load(model_dir / "model.pth.tar", weights_only=False)["model_state_dict"])
    ref.eval()
    feats, lengths = ours.features.batch([to_float(open_pcm(w)) for w in wavs])
    return ours, ref, feats, lengths


def test_v2_checkpoint_loads_with_its_ctc_head(setup):
    ours, ref, feats, lengths = setup
    assert ours.model.ctc is not None
    with torch.no_grad():
        enc, _, mask = ref.encoder(feats, lengths)
        want = ref.ctc(enc)
    got = ours.model.ctc(ours.model.encoder(feats, lengths)[0])
    valid = mask[:, 0, :, None]
    torch.testing.assert_close(got * valid, want * valid, atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: f"b{p.beam_size}s{p.softmax_smoothing}lp{p.length_penalty}e{p.eos_penalty}")
def test_v2_hypotheses_and_confidences_match_official(setup, p):
    ours, ref, feats, lengths = setup
    with torch.no_grad():
        want = ref.transcribe(feats, lengths, p.beam_size, 1, p.decode_max_len, p.softmax_smoothing, p.length_penalty, p.eos_penalty)
    got = ours.model.transcribe(feats, lengths, p)
    assert [u[0].tokens for u in got] == [w[0]["yseq"].tolist() for w in want]
    lengths_out = {len(u[0].tokens) for u in got}
    assert len(lengths_out) > 1, "the test model should end hypotheses at varied lengths"
    for u, w in zip(got, want):
        if u[0].tokens:  # the official mean over no tokens is NaN
            assert u[0].confidence == pytest.approx(float(w[0]["confidence"]), abs=1e-4)
        assert all(0.0 <= q <= 1.0 for q in u[0].token_probs) and len(u[0].token_probs) == len(u[0].tokens)


@torch.inference_mode()
def test_ctc_alignment_and_token_times_match_official(setup):
    """Our vectorised Viterbi alignment against FireRedASR2's reference ``CTC.ctc_align``
    (its pipeline calls torchaudio's forced_align, which does not import beside torch
    2.13.0+cpu; both find the single best CTC path), on the decoded tokens and on random
    token sequences with repeats (a repeated token must pass through a blank)."""
    import random

    from fireredasr2.models.module.ctc import CTC

    from firescribe.engines.fireredasr.align import forced_align, token_times

    ours, _, feats, lengths = setup
    hyps = ours.model.transcribe(feats, lengths, PARAMS[1])
    enc, mask = ours.model.encoder(feats, lengths)
    log_probs = ours.model.ctc(enc)
    rng = random.Random(0)
    cases = []
    for i, utt in enumerate(hyps):
        n = int(mask[i].sum())
        if 0 < len(utt[0].tokens) <= n // 2:
            cases.append((i, n, utt[0].tokens))
        for length in (1, n // 4, n // 2):
            toks = [rng.randrange(5, 40) for _ in range(max(1, length))]
            toks[1:3] = toks[:2] if len(toks) > 3 else toks[1:3]  # a repeat
            cases.append((i, n, toks))
    assert len(cases) >= 8
    for i, n, tokens in cases:
        got = forced_align(log_probs[i, :n], tokens)
        want = [int(x) for x in CTC.ctc_align(log_probs[i, :n], torch.tensor(tokens), blank_id=0)]
        assert got == want, (i, tokens)
        starts, ends = token_times(got)
        w_starts, w_ends = CTC.ctc_alignment_to_timestamp(want, 4, blank_id=0)
        assert starts == pytest.approx(w_starts) and ends == pytest.approx(w_ends)
        assert len(starts) == len(tokens)


def test_pieces_merge_into_words_with_their_times_and_confidence():
    from firescribe.engines.fireredasr.align import shifted, words

    pieces = ["\u2581he", "llo", "\u2581wor", "ld", "你", "好", "\u2581ok", "1"]
    starts, ends = [0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5], [0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 2.0]
    spans = shifted(list(zip(starts, ends)), duration=1.9)
    probs = [1.0, 0.5, 0.9, 0.7, 0.6, 0.8, 0.4, 0.2]
    got = words(pieces, spans, probs)
    assert [w[0] for w in got] == [" hello", " world", "你", "好", " ok", "1"]
    assert got[0][1:] == pytest.approx((0.04, 0.44, 0.75))  # times 60 ms earlier, as FireRedASR2 places them
    assert got[-1][2] == 1.9  # never past the unit
    assert "".join(w[0] for w in got).strip() == "hello world你好 ok1"
