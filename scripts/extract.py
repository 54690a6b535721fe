from firescribe.audio import extract_shard
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
extract_shard(dict(zip(snakemake.params.samples, snakemake.input)), snakemake.output[0], workers=snakemake.threads)
