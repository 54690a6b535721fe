from firescribe.merge import CueParams, run_merge
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
params = {"vad": snakemake.params.vad, "plan": snakemake.params.plan, "asr": snakemake.params.asr}
run_merge(
    snakemake.wildcards.sample,
    snakemake.input.info,
    snakemake.input.plan,
    snakemake.input.segments,
    snakemake.input.wav,
    list(snakemake.input.chunks),
    params,
    CueParams(**snakemake.params.subtitles),
    {fmt: snakemake.output[fmt] for fmt in ("json", "txt", "srt", "vtt", "tsv")},
)
