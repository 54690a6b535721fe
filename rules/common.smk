import json
from dataclasses import asdict

from snakemake.utils import min_version, validate

from firescribe.console import set_strict
from firescribe.plumbing.gpu import is_gpu_chunk
from firescribe.plumbing.outputs import (
    forget_incomplete_merge,
    merged_record,
    transcript_paths,
    transcripts_param,
)
from firescribe.plumbing.shards import FILE_WORKERS, make_shards
from firescribe.settings import (
    FIREREDASR_VARIANTS,
    PREPARED_DIR,
    Settings,
)

min_version("9.0")


# ---- preflight (firescribe.preflight) -------------------------------------------------
# An option the schema does not know (a misspelt or dotted name) stops the run. Values given
# on the command line (--config strict=true) are typed as the schema says, the schema checks
# the config and fills in every default (the one place they live), then the input, the
# hotword lists and every model folder the run uses are checked: a run that
# cannot work stops here, before any job, with one line per problem (and the command that
# gets a missing model). SAMPLES: the sample table (firescribe.plumbing.samples).
from firescribe.preflight import (
    check_options,
    coerce_config_strings,
    start as preflight,
)

check_options(config)
coerce_config_strings(config)
validate(config, "../config/schemas/config.schema.yaml", set_default=True)
SAMPLES = preflight(config)
# ---- end of preflight -------------------------------------------------------------------
# the sample table's columns as dicts: looked up per file by the jobs' input functions
SAMPLE_INFO = {column: SAMPLES[column].to_dict() for column in SAMPLES.columns}

# the hotword lists of the run (each one read and checked by the preflight)
HOTWORD_LISTS = {config["hotwords"], *SAMPLES["hotwords"].dropna()} - {None}

# the typed config (firescribe.settings): what shapes results, apart from where jobs run
SETTINGS = Settings.from_config(
    config, hotwords=bool(HOTWORD_LISTS), languages=SAMPLES["language"]
)
# strict: true makes the run's exit status 1 where an input failed (firescribe.console)
set_strict(SETTINGS.strict)

# the files each job of extract, vad, plan and merge serves: many short files, or one long
# one (firescribe.plumbing.shards); a shard is named after its first file
SHARDS = make_shards(SAMPLES, SETTINGS.shards)


wildcard_constraints:
    sample=r"[^/]+",
    shard=r"[^/]+",
    chunk=r"\d{4}",
    variant="|".join(FIREREDASR_VARIANTS),


def members(wildcards):
    return SHARDS[wildcards.shard]


def files_at_once(wildcards):
    """Threads of a job that handles a shard's files one a thread (extract, vad): one a file,
    at most FILE_WORKERS (Snakemake lowers it to --cores where that is less)."""
    return min(FILE_WORKERS, len(members(wildcards)))


def media_paths(wildcards):
    return [SAMPLE_INFO["path"][s] for s in members(wildcards)]


def sample_language(wildcards):
    """The shard's language (its files share it: firescribe.plumbing.shards.context_key)."""
    lang = SAMPLE_INFO["language"][members(wildcards)[0]]
    return lang if isinstance(lang, str) and lang else SETTINGS.language


def hotword_lists(wildcards):
    """The hotword lists of a shard's files: the corpus's (config hotwords), then their own
    (sample sheet; the files of a shard share it)."""
    own = SAMPLE_INFO["hotwords"][members(wildcards)[0]]
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
    from firescribe.engines.fireredasr.loader import MODEL_FILES

    model_dir = config["fireredasr_aed"]["model_dir"]
    return [f"{model_dir}/{name}" for name in MODEL_FILES]


def prepared_model_input(wildcards):
    """The prepared model folder the ASR jobs run from, if the config's variant has one."""
    return SETTINGS.asr.options.prepared_dir or []


def punctuation_model_files(wildcards):
    """The released FireRedPunc files the merge step reads, when it punctuates."""
    from firescribe.text.punctuation import MODEL_FILES

    model_dir = SETTINGS.punctuation.model_dir
    return (
        [f"{model_dir}/{name}" for name in MODEL_FILES] if SETTINGS.punctuates else []
    )
