rule extract:
    """Decode each file of a shard to 16 kHz mono PCM (ffmpeg, local files only): the audio
    track that carries speech (or audio.track), from the media's start, the channel that
    carries it where the downmix cancels."""
    input:
        media_paths,
    output:
        # {sample}.wav and {sample}.json (what extraction found) for each file of the shard
        directory("results/work/audio/{shard}"),
    log:
        "results/logs/extract/{shard}.log",
    benchmark:
        "results/benchmarks/extract/{shard}.tsv"
    conda:
        "../envs/firescribe.yaml"
    # one file at a time per thread: as many threads as files, up to all cores
    threads: files_at_once
    params:
        # audio.track where it is not "auto" (firescribe.settings.Settings.extract_params)
        **SETTINGS.extract_params(),
        samples=members,
    script:
        "../scripts/extract.py"
