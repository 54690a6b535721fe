from firescribe.threads import pin_threads
from firescribe.vad import VadParams, run_vad
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
pin_threads(snakemake.threads)
run_vad(snakemake.input.wav, snakemake.output.segments, VadParams(**snakemake.params.vad))
