rule vad:
    """Find speech with silero-vad (ONNX, one thread)."""
    input:
        wav="results/work/audio/{sample}.wav",
    output:
        segments="results/work/vad/{sample}.tsv",
    log:
        "results/logs/vad/{sample}.log",
    benchmark:
        "results/benchmarks/vad/{sample}.tsv"
    conda:
        "../envs/firescribe.yaml"
    threads: 1
    params:
        vad=asdict(SETTINGS.vad),
    script:
        "../scripts/vad.py"
