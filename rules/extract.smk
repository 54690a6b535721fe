rule extract:
    """Decode each file of a shard to 16 kHz mono PCM (ffmpeg, local files only)."""
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
        samples=members,
    script:
        "../scripts/extract.py"
