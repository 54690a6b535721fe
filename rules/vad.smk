rule vad:
    """Find speech in each file of a shard with the configured VAD (vad.model: silero-vad or
    FireRedVAD, one thread a file); FireRedVAD's event model, where on, marks singing and music.
    """
    input:
        audio="results/work/audio/{shard}",
    output:
        segments="results/work/vad/{shard}.tsv",
    log:
        "results/logs/vad/{shard}.log",
    benchmark:
        "results/benchmarks/vad/{shard}.tsv"
    conda:
        "../envs/firescribe.yaml"
    # one file at a time per thread: as many threads as files, up to all cores
    threads: files_at_once
    params:
        samples=members,
        vad=SETTINGS.vad_params(),
    script:
        "../scripts/vad.py"
