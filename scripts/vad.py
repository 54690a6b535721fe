from firescribe.threads import pin_threads

pin_threads(snakemake.threads)  # first: the math libraries read their thread settings when loaded

from firescribe.vad import VadParams, run_vad  # noqa: E402
from firescribe.workflow import setup_logging  # noqa: E402

setup_logging(snakemake.log[0])
run_vad(snakemake.input.wav, snakemake.output.segments, VadParams(**snakemake.params.vad))
