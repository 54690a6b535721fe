from firescribe.threads import pin_threads

pin_threads(snakemake.threads)  # first: the math libraries read their thread settings when loaded

from firescribe.audio import shard_audio  # noqa: E402
from firescribe.vad import run_job  # noqa: E402
from firescribe.workflow import setup_logging  # noqa: E402

setup_logging(snakemake.log[0])
wavs = {s: shard_audio(snakemake.input.audio, s)[0] for s in snakemake.params.samples}
run_job(wavs, snakemake.output.segments, snakemake.params.vad, workers=snakemake.threads)
