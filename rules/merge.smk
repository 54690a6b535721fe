rule merge:
    """Join a file's chunk results into transcripts on the media's timeline."""
    input:
        info=WORK + "/audio/{sample}.json",
        plan=WORK + "/plan/{sample}.json",
        chunks=chunk_results,
    output:
        **{fmt: RESULTS + "/transcripts/{sample}." + fmt for fmt in FORMATS},
    params:
        subtitles=config["subtitles"],
        vad=vad_params(),
        plan=plan_params(),
        asr=asr_params(),
    log:
        LOGS + "/merge/{sample}.log",
    benchmark:
        BENCH + "/merge/{sample}.tsv"
    threads: 1
    conda:
        "../envs/firescribe.yaml"
    script:
        "../scripts/merge.py"
