rule vad:
    """Find speech with silero-vad (ONNX, one thread)."""
    input:
        wav=WORK + "/audio/{sample}.wav",
    output:
        segments=WORK + "/vad/{sample}.tsv",
    params:
        vad=vad_params(),
    log:
        LOGS + "/vad/{sample}.log",
    benchmark:
        BENCH + "/vad/{sample}.tsv"
    threads: 1
    conda:
        "../envs/firescribe.yaml"
    script:
        "../scripts/vad.py"
