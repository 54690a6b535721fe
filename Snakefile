# firescribe: long videos and recordings in, transcripts out.
#
#   media --extract--> 16 kHz WAV --vad--> speech segments --plan--> units, inputs & chunks
#         --asr (one job per chunk)--> chunk results --merge--> json/txt/srt/vtt/tsv per file
#         --corpus--> corpus.tsv / corpus.parquet for the whole corpus
#         --report--> figures and a per-file table for `snakemake --report report.html`
#
# Jobs are per shard: one long file, or many short ones (firescribe.shards), so that a
# dataset of 10,000 short clips is tens of jobs, not 50,000; the ASR jobs of a shard decode
# the units of all its files in length-sorted batches, with one model load a job.
#
# Configure in config/config.yaml (see config/README.md); run with `snakemake --cores N`.


# beside this Snakefile, whatever the working directory (--directory)
configfile: f"{workflow.basedir}/config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


rule all:
    input:
        # each shard's list of files; its transcripts results/transcripts/{sample}.{ext}
        # are written beside it (firescribe.merge.transcripts_param)
        [merged_record(shard) for shard in SHARDS],
        "results/corpus.tsv",
        "results/corpus.parquet",
        "results/report/files.html",
        # every chunk result is a target too, so a deleted or lost chunk is redone on rerun
        all_chunk_results,
        # strict: true makes the run fail if any input failed (see config/README.md)
        "results/strict.ok" if SETTINGS.strict else [],


include: "rules/extract.smk"
include: "rules/vad.smk"
include: "rules/plan.smk"
include: "rules/asr.smk"
include: "rules/merge.smk"
include: "rules/corpus.smk"
include: "rules/report.smk"


# The corpus summary (counts, each failed file and its reason) is the run's last output, on
# success and on failure: printed as the process exits, after Snakemake's own last lines.
onstart:
    from firescribe.corpus import mark_run_start

    mark_run_start()


onsuccess:
    from firescribe.corpus import print_at_exit, run_summary

    print_at_exit(run_summary("results/corpus.tsv"))


onerror:
    from firescribe.corpus import print_at_exit, run_summary

    print_at_exit(run_summary("results/corpus.tsv"))
