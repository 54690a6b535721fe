from firescribe.threads import pin_threads

pin_threads(snakemake.threads)  # first: the math libraries read their thread settings when loaded

from firescribe.workflow import setup_logging  # noqa: E402

setup_logging(snakemake.log[0])

from firescribe.asr import asr_decoder, run_chunk  # noqa: E402
from firescribe.audio import shard_audio  # noqa: E402
from firescribe.hotwords import load_hotwords  # noqa: E402
from firescribe.settings import AsrSettings, Placement  # noqa: E402

asr = AsrSettings.from_params(snakemake.params.asr)
gpu_job = int(snakemake.resources.get("gpu", 0)) > 0
hotwords = load_hotwords(*snakemake.input.hotwords)  # the corpus's list, then the file's own
placement = Placement.from_config(snakemake.config)  # not a param: moving to other GPUs re-runs nothing
with asr_decoder(asr, placement, snakemake.threads, gpu_job, int(snakemake.resources.get("gpu_mem_mb", 0)), snakemake.params.gpu_locks, hotwords) as decoder:
    run_chunk(
        decoder,
        {s: shard_audio(snakemake.input.audio, s)[0] for s in snakemake.params.samples},
        snakemake.input.plan,
        snakemake.input.model,
        int(snakemake.wildcards.chunk),
        snakemake.output[0],
        language=snakemake.params.language,
        batch_s=asr.batch_seconds,
        guard=asr.guard,
    )
