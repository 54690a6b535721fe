"""Test helpers: media made with espeak-ng, sox and ffmpeg (``media``), random-weight
checkpoints in the official formats and the official code (``official``, ``punc_official``),
a one-node Slurm cluster (``slurm_cluster``), running the workflow as a user does
(``workflow``), settings for backends built outside the workflow (``settings``)."""
