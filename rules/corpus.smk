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
