# firescribe: long videos and recordings in, transcripts out.
#
#   media --extract--> 16 kHz WAV --vad--> speech segments --plan--> units, inputs & chunks
#         --asr (one job per chunk)--> chunk results --merge--> json/txt/srt/vtt/tsv per file
#         --corpus--> corpus.tsv / corpus.parquet for the whole corpus
#         --report--> figures and a per-file table for `snakemake --report report.html`
#
# Jobs are per shard: one long file, or many short ones (firescribe.plumbing.shards), so that a
# dataset of 10,000 short clips is tens of jobs, not 50,000; the ASR jobs of a shard decode
# the units of all its files in length-sorted batches, with one model load a job.
#
# Configure in config/config.yaml (see docs/configuration.md); run with `snakemake --cores N`.

# The console shows progress and problems; `snakemake --verbose` every job (firescribe.console).
from firescribe.console import quiet_console

quiet_console(workflow)


# beside this Snakefile, whatever the working directory (--directory)
configfile: f"{workflow.basedir}/config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


rule all:
    input:
        # each shard's list of files; its transcripts results/transcripts/{sample}.{ext}
        # are written beside it (firescribe.plumbing.outputs.transcripts_param)
        [merged_record(shard) for shard in SHARDS],
        "results/corpus.tsv",
        "results/corpus.parquet",
        "results/report/files.html",
        # every chunk result is a target too, so a deleted or lost chunk is redone on rerun
        all_chunk_results,


include: "rules/extract.smk"
include: "rules/vad.smk"
include: "rules/plan.smk"
include: "rules/asr.smk"
include: "rules/merge.smk"
include: "rules/corpus.smk"
include: "rules/report.smk"
include: "rules/prune.smk"


# The corpus summary (counts, each failed file and its reason, where the results are) is the
# run's last output, on success, on failure and with nothing to do: printed as the process
# exits, after Snakemake's own last lines; with strict: true a failed input makes the exit
# status 1 there (firescribe.console).
onstart:
    from firescribe.console import run_started

    run_started()


onsuccess:
    from firescribe.console import run_ended

    run_ended(ok=True)


onerror:
    from firescribe.console import run_ended

    run_ended(ok=False)
