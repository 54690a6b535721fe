rule extract:
    """Decode any audio/video file to 16 kHz mono PCM (ffmpeg, local files only)."""
    input:
        media_path,
    output:
        wav="results/work/audio/{sample}.wav",
        info="results/work/audio/{sample}.json",
    log:
        "results/logs/extract/{sample}.log",
    benchmark:
        "results/benchmarks/extract/{sample}.tsv"
    conda:
        "../envs/firescribe.yaml"
    threads: 1
    script:
        "../scripts/extract.py"
