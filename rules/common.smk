import json
import os
from dataclasses import asdict

from snakemake.utils import min_version, validate

from firescribe.gpu import is_gpu_chunk
from firescribe.hotwords import read_hotwords
from firescribe.merge import FORMATS
from firescribe.samples import load_samples
from firescribe.shards import make_shards, shard_of
from firescribe.settings import (
    FIREREDASR_VARIANTS,
    PREPARED_DIR,
    Settings,
    options_params,
)

min_version("9.0")


# the schema fills in every default (the one place they live)
validate(config, "../config/schemas/config.schema.yaml", set_default=True)


SAMPLES = load_samples(config["input"])

# every hotword list is read once here, so a bad one stops the run before any job starts
HOTWORD_LISTS = {config["hotwords"], *SAMPLES["hotwords"].dropna()} - {None}
for hotword_list in HOTWORD_LISTS:
    read_hotwords(hotword_list)

# the typed config (firescribe.settings): what shapes results, apart from where jobs run
SETTINGS = Settings.from_config(config, hotwords=bool(HOTWORD_LISTS))

# the files each job of extract, vad, plan and merge serves: many short files, or one long
# one (firescribe.shards); a shard is named after its first file
SHARDS = make_shards(SAMPLES, SETTINGS.shards)
SHARD_OF = shard_of(SHARDS)


wildcard_constraints:
    sample=r"[^/]+",
    shard=r"[^/]+",
    chunk=r"\d{4}",
    variant="|".join(FIREREDASR_VARIANTS),


def transcript_paths(sample):
    """A file's transcripts, format -> path: written by its shard's merge job."""
    return {fmt: f"results/transcripts/{sample}.{fmt}" for fmt in FORMATS}


def merge_again_where_transcripts_are_missing():
    """Transcripts are not declared as Snakemake outputs: Snakemake checks every declared
    output of a job against every target, so a merge job serving thousands of files would
    make the DAG quadratic. Its declared output is the shard's list of files instead; a
    shard any of whose transcripts has been deleted loses that list here, and so is merged
    again, as a deleted output would be."""
    folder = "results/transcripts"
    present = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    for shard, samples in SHARDS.items():
        record = f"results/work/merged/{shard}.tsv"
        if os.path.exists(record) and any(
            os.path.basename(path) not in present
            for s in samples
            for path in transcript_paths(s).values()
        ):
            os.remove(record)


merge_again_where_transcripts_are_missing()


def members(wildcards):
    return SHARDS[wildcards.shard]


def files_at_once(wildcards):
    """Threads of a job that handles a shard's files one a thread (extract, vad)."""
    return min(workflow.cores, len(members(wildcards)))


def media_paths(wildcards):
    return [SAMPLES.loc[s, "path"] for s in members(wildcards)]


def sample_language(wildcards):
    """The shard's language (its files share it: firescribe.shards.context_key)."""
    lang = SAMPLES.loc[members(wildcards)[0], "language"]
    return lang if isinstance(lang, str) and lang else SETTINGS.language


def hotword_lists(wildcards):
    """The hotword lists of a shard's files: the corpus's (config hotwords), then their own
    (sample sheet; the files of a shard share it)."""
    own = SAMPLES.loc[members(wildcards)[0], "hotwords"]
    return [path for path in (SETTINGS.hotwords, own) if isinstance(path, str) and path]


def chunks_of(shard):
    """ASR outputs of one shard: known once its plan (a checkpoint) exists."""
    plan = checkpoints.plan.get(shard=shard).output.plan
    with open(plan, encoding="utf-8") as f:
        n = len(json.load(f)["chunks"])
    return [f"results/work/asr/{shard}/{i:04d}.json" for i in range(n)]


def chunk_results(wildcards):
    return chunks_of(wildcards.shard)


def all_chunk_results(wildcards):
    return [f for shard in SHARDS for f in chunks_of(shard)]


def references():
    """Reference transcript per sample, where the sample sheet gives one."""
    refs = SAMPLES["reference"].dropna()
    return {sample: path for sample, path in refs.items() if path}


def gpu_job(wildcards):
    """1 if this chunk runs as a GPU job (asr.device cuda/auto, asr.gpu_share of the chunks)."""
    placement = SETTINGS.placement
    return int(
        is_gpu_chunk(int(wildcards.chunk), placement.device, placement.gpu_share)
    )


def released_model_files(wildcards):
    """The released FireRedASR-AED files a prepared variant is made from."""
    from firescribe.fireredasr.loader import MODEL_FILES

    model_dir = config["fireredasr_aed"]["model_dir"]
    return [f"{model_dir}/{name}" for name in MODEL_FILES]


def prepared_model_input(wildcards):
    """The prepared model folder the ASR jobs run from, if the config's variant has one."""
    return SETTINGS.asr.options.prepared_dir or []


def punctuation_model_files(wildcards):
    """The released FireRedPunc files the merge step reads, when it punctuates."""
    from firescribe.punctuation import MODEL_FILES

    model_dir = SETTINGS.punctuation.model_dir
    return (
        [f"{model_dir}/{name}" for name in MODEL_FILES] if SETTINGS.punctuates else []
    )
