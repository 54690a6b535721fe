"""Our implementation of FireRedASR-AED (v1), loading the official released files unchanged.

Modules (each small, shapes in the docstrings):
  features   - 80-dim kaldi fbank + global CMVN (cmvn.ark)
  encoder    - Conformer encoder with relative-position self-attention
  decoder    - Transformer decoder with incremental (cached) self-attention K/V and
               cross-attention K/V computed once per utterance
  beam_search- batched beam search, exactly the official algorithm
  tokenizer  - dict.txt ids -> text
  loader     - safe (weights_only), memory-mapped loading of model.pth.tar
"""
