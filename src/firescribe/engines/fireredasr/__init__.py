"""Our implementation of FireRedASR-AED and FireRedASR2-AED, loading the official released
files unchanged.

Modules (each small, shapes in the docstrings):
  features    - 80-dim kaldi fbank + global CMVN (cmvn.ark)
  encoder     - Conformer encoder with relative-position self-attention
  decoder     - Transformer decoder with incremental (cached) self-attention K/V and
                cross-attention K/V computed once per utterance
  ctc         - FireRedASR2's CTC head on the encoder output
  model       - the network built from the checkpoint's args; transcribe = encoder + search
  beam_search - batched beam search, exactly the official algorithm (optionally biased)
  context     - hotwords: an Aho-Corasick automaton whose bonuses bias the beam search
  align       - CTC forced alignment: token and word times (FireRedASR2)
  tokenizer   - dict.txt ids -> text; text -> tokens as the official tokenizer splits it
  loader      - safe (weights_only), memory-mapped loading of model.pth.tar
  precision   - int8 (dynamic quantization) and fp16 variants of the torch model
  export      - the ONNX graphs (encoder, cross-attention K/V, cached decoder step)
  ort         - those graphs on ONNX Runtime, driven by the same beam search
  prepare     - the prepare_model step: a variant's files written once, with a manifest
  errors      - ModelFileError: a model file that cannot be used, named
"""
