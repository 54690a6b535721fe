rule merge:
    """Join a file's chunk results into transcripts on the media's timeline."""
    input:
        info="results/work/audio/{sample}.json",
        wav="results/work/audio/{sample}.wav",
        plan="results/work/plan/{sample}.json",
        segments="results/work/vad/{sample}.tsv",
        chunks=chunk_results,
        punctuation_model=punctuation_model_files,
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
    # FireRedPunc's BERT gets the ASR jobs' threads; without punctuation, one
    threads: config["asr"]["threads"] if punctuation_on() else 1
    params:
        # the media path as given (relative to the input folder or as in the sample sheet)
        source=lambda wildcards: SAMPLES.loc[wildcards.sample, "source"],
        punctuation=config["punctuation"],
        subtitles=config["subtitles"],
        vad=vad_params(),
        plan=plan_params(),
        asr=asr_params(),
    script:
        "../scripts/merge.py"
