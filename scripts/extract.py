from firescribe.audio import extract_shard
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
extract_shard(
    dict(zip(snakemake.params.samples, snakemake.input)),
    snakemake.output[0],
    workers=snakemake.threads,
    # params only where not at their defaults (firescribe.settings.Settings.extract_params)
    track=getattr(snakemake.params, "track", None),
    apart=getattr(snakemake.params, "channels", None) == "apart",
    # preferred among several tracks with speech (read here, not a param: see docs/usage.md)
    language=snakemake.config["language"],
)
