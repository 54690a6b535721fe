from firescribe.audio import shard_audio
from firescribe.io import read_json
from firescribe.plan import PlanParams, run_plan
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
word_times = read_json(snakemake.input.model)["word_times"]  # cue-sized units where none
wavs = {s: shard_audio(snakemake.input.audio, s)[0] for s in snakemake.params.samples}
run_plan(wavs, snakemake.input.segments, snakemake.output.plan, PlanParams(**snakemake.params.plan), word_times)
