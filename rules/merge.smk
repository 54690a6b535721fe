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
    threads: SETTINGS.placement.threads if SETTINGS.punctuates else 1
    params:
        # the media path as given (relative to the input folder or as in the sample sheet)
        source=lambda wildcards: SAMPLES.loc[wildcards.sample, "source"],
        punctuation=asdict(SETTINGS.punctuation),
        subtitles=asdict(SETTINGS.subtitles),
        vad=asdict(SETTINGS.vad),
        plan=asdict(SETTINGS.plan),
        asr=SETTINGS.asr.params(),
    script:
        "../scripts/merge.py"
