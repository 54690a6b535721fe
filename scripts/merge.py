from firescribe.punctuation import PunctuationParams
from firescribe.threads import pin_threads

punctuation = PunctuationParams(**snakemake.params.punctuation)
if punctuation.applies_to(snakemake.params.asr["backend"]):
    pin_threads(snakemake.threads)  # FireRedPunc's BERT; first: libraries read it when loaded

from firescribe.audio import shard_audio  # noqa: E402
from firescribe.guard import ReadableParams  # noqa: E402
from firescribe.merge import CueParams, FileInputs, run_merge, write_merged  # noqa: E402
from firescribe.workflow import setup_logging  # noqa: E402

setup_logging(snakemake.log[0])

files = {}
for sample, source in zip(snakemake.params.samples, snakemake.params.sources):
    wav, info = shard_audio(snakemake.input.audio, sample)
    files[sample] = FileInputs(info, wav, source, snakemake.params.transcripts[sample])
# what the transcript records of how it was made
params = {
    "vad": snakemake.params.vad,
    "plan": snakemake.params.plan,
    "asr": snakemake.params.asr,
    "punctuation": snakemake.params.punctuation,
    "chinese": snakemake.params.chinese,
    "readable": snakemake.params.readable,
}
readable = ReadableParams(**snakemake.params.readable)
docs = run_merge(files, snakemake.input.plan, snakemake.input.segments, list(snakemake.input.chunks), params, CueParams(**snakemake.params.subtitles), punctuation, readable, snakemake.params.language)
write_merged(snakemake.output.files, docs)
