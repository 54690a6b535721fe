"""firescribe: transcribe long video/audio corpora with FireRedASR, as a Snakemake workflow."""

__version__ = "0.1.0"
