from firescribe.punctuation import PunctuationParams
from firescribe.threads import pin_threads

punctuation = PunctuationParams(**snakemake.params.punctuation)
if punctuation.applies_to(snakemake.params.asr["backend"]):
    pin_threads(snakemake.threads)  # FireRedPunc's BERT; first: libraries read it when loaded

from firescribe.merge import FORMATS, CueParams, run_merge  # noqa: E402
from firescribe.workflow import setup_logging  # noqa: E402

setup_logging(snakemake.log[0])

# what the transcript records of how it was made
params = {"vad": snakemake.params.vad, "plan": snakemake.params.plan, "asr": snakemake.params.asr, "punctuation": snakemake.params.punctuation}
run_merge(
    snakemake.wildcards.sample,
    snakemake.input.info,
    snakemake.input.plan,
    snakemake.input.segments,
    snakemake.input.wav,
    list(snakemake.input.chunks),
    params,
    CueParams(**snakemake.params.subtitles),
    {fmt: snakemake.output[fmt] for fmt in FORMATS},
    punctuation,
    source=snakemake.params.source,
)
