import json

from snakemake.utils import min_version, validate

from firescribe.samples import load_samples
from firescribe.workflow import backend_options, max_unit_s

min_version("9.0")


validate(config, "../config/schemas/config.schema.yaml", set_default=True)

RESULTS = config["results"].rstrip("/")
WORK = RESULTS + "/work"
LOGS = RESULTS + "/logs"
BENCH = RESULTS + "/benchmarks"
FORMATS = ["json", "txt", "srt", "vtt", "tsv"]

SAMPLES = load_samples(config["input"])


wildcard_constraints:
    sample=r"[^/]+",
    chunk=r"\d{4}",


def media_path(wildcards):
    return SAMPLES.loc[wildcards.sample, "path"]


def sample_language(wildcards):
    lang = SAMPLES.loc[wildcards.sample, "language"]
    return lang if isinstance(lang, str) and lang else config["language"]


def chunk_results(wildcards):
    """ASR outputs of one file: known once its plan (a checkpoint) exists."""
    plan = checkpoints.plan.get(sample=wildcards.sample).output.plan
    with open(plan, encoding="utf-8") as f:
        n = len(json.load(f)["chunks"])
    return [f"{WORK}/asr/{wildcards.sample}/{i:04d}.json" for i in range(n)]


def vad_params():
    return config["vad"]


def plan_params():
    return {
        "max_unit_s": max_unit_s(config),
        "max_gap_s": config["plan"]["max_gap_s"],
        "chunk_s": config["plan"]["chunk_minutes"] * 60.0,
    }


def asr_params():
    return {
        "backend": config["backend"],
        "options": backend_options(config),
        "batch_seconds": config["plan"]["batch_seconds"],
        "device": config["asr"]["device"],
    }
