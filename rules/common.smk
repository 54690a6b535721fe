import json
from dataclasses import asdict

from snakemake.utils import min_version, validate

from firescribe.gpu import is_gpu_chunk
from firescribe.hotwords import read_hotwords
from firescribe.merge import FORMATS
from firescribe.samples import load_samples
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


wildcard_constraints:
    sample=r"[^/]+",
    chunk=r"\d{4}",
    variant="|".join(FIREREDASR_VARIANTS),


def media_path(wildcards):
    return SAMPLES.loc[wildcards.sample, "path"]


def sample_language(wildcards):
    lang = SAMPLES.loc[wildcards.sample, "language"]
    return lang if isinstance(lang, str) and lang else SETTINGS.language


def hotword_lists(wildcards):
    """The hotword lists of a file: the corpus's (config hotwords), then its own (sample sheet)."""
    own = SAMPLES.loc[wildcards.sample, "hotwords"]
    return [path for path in (SETTINGS.hotwords, own) if isinstance(path, str) and path]


def chunks_of(sample):
    """ASR outputs of one file: known once its plan (a checkpoint) exists."""
    plan = checkpoints.plan.get(sample=sample).output.plan
    with open(plan, encoding="utf-8") as f:
        n = len(json.load(f)["chunks"])
    return [f"results/work/asr/{sample}/{i:04d}.json" for i in range(n)]


def chunk_results(wildcards):
    return chunks_of(wildcards.sample)


def all_chunk_results(wildcards):
    return [f for sample in SAMPLES.index for f in chunks_of(sample)]


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
