from firescribe.audio import extract_shard
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
extract_shard(
    dict(zip(snakemake.params.samples, snakemake.input)),
    snakemake.output[0],
    workers=snakemake.threads,
    track=getattr(snakemake.params, "track", None),  # a param only where not auto
    # preferred among several tracks with speech (read here, not a param: see docs/usage.md)
    language=snakemake.config["language"],
)
