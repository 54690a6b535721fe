rule report:
    """Figures and a per-file table for `snakemake --report report.html`."""
    input:
        corpus="results/corpus.parquet",
        segments=expand("results/work/vad/{shard}.tsv", shard=SHARDS),
        plans=expand("results/work/plan/{shard}.json", shard=SHARDS),
        merged=[merged_record(shard) for shard in SHARDS],
    output:
        files=report(
            "results/report/files.html",
            caption="../report/files.rst",
            category="1. Corpus",
        ),
        timeline=report(
            "results/report/timeline.png",
            caption="../report/timeline.rst",
            category="2. Speech",
        ),
        units=report(
            "results/report/units.png",
            caption="../report/units.rst",
            category="2. Speech",
        ),
        rtf=report(
            "results/report/rtf.png",
            caption="../report/rtf.rst",
            category="3. Speed",
        ),
        stages=report(
            "results/report/stages.png",
            caption="../report/stages.rst",
            category="3. Speed",
        ),
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        "../envs/firescribe.yaml"
    params:
        transcripts=[transcript_paths(s)["json"] for s in SAMPLES.index],
        benchmarks="results/benchmarks",
    script:
        "../scripts/report.py"
