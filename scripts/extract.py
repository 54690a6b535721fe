from firescribe.audio import extract_audio
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
extract_audio(snakemake.input[0], snakemake.output.wav, snakemake.output.info)
