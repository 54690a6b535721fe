from firescribe.threads import pin_threads

pin_threads(snakemake.threads)  # first: the math libraries read their thread settings when loaded

from firescribe.fireredasr.prepare import prepare  # noqa: E402
from firescribe.workflow import setup_logging  # noqa: E402

setup_logging(snakemake.log[0])
prepare(snakemake.params.model_dir, snakemake.output[0], snakemake.wildcards.variant)
