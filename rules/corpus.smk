rule corpus:
    """One table for the whole corpus: every input with its status and reason."""
    input:
        merged=[merged_record(shard) for shard in SHARDS],
        references=references().values(),
    output:
        tsv=report(
            "results/corpus.tsv",
            caption="../report/corpus.rst",
            category="1. Corpus",
        ),
        parquet="results/corpus.parquet",
    log:
        "results/logs/corpus.log",
    benchmark:
        "results/benchmarks/corpus.tsv"
    conda:
        "../envs/firescribe.yaml"
    threads: 1
    params:
        transcripts=[transcript_paths(s)["json"] for s in SAMPLES.index],
        references=references(),
    script:
        "../scripts/corpus.py"


rule strict_check:
    """With strict: true, fail the run (after the corpus table is written) if any input failed."""
    input:
        "results/corpus.tsv",
    output:
        touch("results/strict.ok"),
    log:
        "results/logs/strict_check.log",
    benchmark:
        "results/benchmarks/strict_check.tsv"
    conda:
        "../envs/firescribe.yaml"
    script:
        "../scripts/strict_check.py"
