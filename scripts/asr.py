from firescribe.threads import pin_threads
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
pin_threads(snakemake.threads)  # before the backend loads torch/ctranslate2 work

from firescribe.asr import run_chunk  # noqa: E402
from firescribe.backends import load_backend  # noqa: E402

p = snakemake.params.asr
backend = load_backend(p["backend"], p["options"], threads=snakemake.threads, device=p["device"])
run_chunk(
    backend,
    snakemake.input.wav,
    snakemake.input.plan,
    snakemake.input.model,
    int(snakemake.wildcards.chunk),
    snakemake.output[0],
    language=snakemake.params.language,
    batch_s=p["batch_seconds"],
)
