from firescribe.report import run_report
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
run_report(
    snakemake.input.corpus,
    list(snakemake.input.segments),
    list(snakemake.input.plans),
    list(snakemake.params.transcripts),
    snakemake.params.benchmarks,
    {name: snakemake.output[name] for name in ("files", "timeline", "units", "rtf", "stages")},
)
