rule merge:
    """Join a file's chunk results into transcripts on the media's timeline."""
    input:
        info="results/work/audio/{sample}.json",
        wav="results/work/audio/{sample}.wav",
        plan="results/work/plan/{sample}.json",
        segments="results/work/vad/{sample}.tsv",
        chunks=chunk_results,
    output:
        json="results/transcripts/{sample}.json",
        txt="results/transcripts/{sample}.txt",
        srt="results/transcripts/{sample}.srt",
        vtt="results/transcripts/{sample}.vtt",
        tsv="results/transcripts/{sample}.tsv",
    log:
        "results/logs/merge/{sample}.log",
    benchmark:
        "results/benchmarks/merge/{sample}.tsv"
    conda:
        "../envs/firescribe.yaml"
    threads: 1
    params:
        subtitles=config["subtitles"],
        vad=vad_params(),
        plan=plan_params(),
        asr=asr_params(),
    script:
        "../scripts/merge.py"
