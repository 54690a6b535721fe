from firescribe.plan import run_plan
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
run_plan(snakemake.input.wav, snakemake.input.segments, snakemake.output.plan, **snakemake.params.plan)
