rule extract:
    """Decode any audio/video file to 16 kHz mono PCM (ffmpeg, local files only)."""
    input:
        media_path,
    output:
        wav=temp(WORK + "/audio/{sample}.wav"),
        info=WORK + "/audio/{sample}.json",
    log:
        LOGS + "/extract/{sample}.log",
    benchmark:
        BENCH + "/extract/{sample}.tsv"
    threads: 1
    conda:
        "../envs/firescribe.yaml"
    script:
        "../scripts/extract.py"
