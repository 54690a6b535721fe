from firescribe.plan import run_plan
from firescribe.io import read_json
from firescribe.workflow import cue_unit_limit, setup_logging

setup_logging(snakemake.log[0])
params = dict(snakemake.params.plan)
max_cue_s = cue_unit_limit(params.pop("cue_units"), params.pop("max_cue_s"), read_json(snakemake.input.model))
run_plan(snakemake.input.wav, snakemake.input.segments, snakemake.output.plan, **params, max_cue_s=max_cue_s)
