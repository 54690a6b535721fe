from firescribe.fireredasr.prepare import prepare
from firescribe.threads import pin_threads
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
pin_threads(snakemake.threads)
prepare(snakemake.params.model_dir, snakemake.output[0], snakemake.wildcards.variant)
