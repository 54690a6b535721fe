rule corpus:
    """One table for the whole corpus: every input with its status and reason."""
    input:
        expand(RESULTS + "/transcripts/{sample}.json", sample=SAMPLES.index),
    output:
        tsv=RESULTS + "/corpus.tsv",
        parquet=RESULTS + "/corpus.parquet",
    params:
        strict=config["strict"],
    log:
        LOGS + "/corpus.log",
    benchmark:
        BENCH + "/corpus.tsv"
    threads: 1
    conda:
        "../envs/firescribe.yaml"
    script:
        "../scripts/corpus.py"
