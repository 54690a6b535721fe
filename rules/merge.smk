rule merge:
    """Join a shard's chunk results into each file's transcripts on its media's timeline:
    results/transcripts/{sample}.{json,txt,srt,vtt,tsv}, and the shard's list of files.
    """
    input:
        audio="results/work/audio/{shard}",
        plan="results/work/plan/{shard}.json",
        segments="results/work/vad/{shard}.tsv",
        chunks=chunk_results,
        punctuation_model=punctuation_model_files,
        # none; a real run (not a dry run, --lint, --report or a cluster job) merges again a
        # shard one of whose transcripts was deleted (firescribe.plumbing.outputs.forget_incomplete_merge)
        forget=lambda wildcards: (
            forget_incomplete_merge(wildcards.shard, members(wildcards))
            if workflow.is_main_process
            and workflow.executor_plugin is not None
            and not (workflow.dryrun or workflow.touch)
            else []
        ),
    output:
        # sample, status, reason per file; the transcripts are written beside it, atomically
        # (a job may serve thousands of files: see firescribe.plumbing.outputs.transcripts_param)
        files=merged_record("{shard}"),
    log:
        "results/logs/merge/{shard}.log",
    benchmark:
        "results/benchmarks/merge/{shard}.tsv"
    conda:
        "../envs/firescribe.yaml"
    # FireRedPunc's BERT gets the ASR jobs' threads; without punctuation, one
    threads: SETTINGS.placement.threads if SETTINGS.punctuates else 1
    params:
        samples=members,
        # the media paths as given (relative to the input folder or as in the sample sheet)
        sources=lambda wildcards: [SAMPLE_INFO["source"][s] for s in members(wildcards)],
        # sample -> format -> path (a dry run adds those missing: it lists their merge)
        transcripts=lambda wildcards: transcripts_param(
            members(wildcards), workflow.dryrun
        ),
        punctuation=asdict(SETTINGS.punctuation),
        subtitles=asdict(SETTINGS.subtitles),
        chinese=SETTINGS.chinese.params(),
        vad=SETTINGS.vad_params(),
        plan=asdict(SETTINGS.plan),
        asr=SETTINGS.asr.params(),
        # what a viewer reads: units held back as markers, lyrics (docs/guard.md)
        readable=asdict(SETTINGS.readable),
        language=sample_language,
    script:
        "../scripts/merge.py"
