rule asr:
    """Transcribe one chunk of units with the configured backend."""
    input:
        wav="results/work/audio/{sample}.wav",
        plan="results/work/plan/{sample}.json",
    output:
        "results/work/asr/{sample}/{chunk}.json",
    log:
        "results/logs/asr/{sample}/{chunk}.log",
    benchmark:
        "results/benchmarks/asr/{sample}/{chunk}.tsv"
    conda:
        "../envs/firescribe.yaml"
    threads: config["asr"]["threads"]
    resources:
        mem_mb=4000,
    params:
        asr=asr_params(),
        language=sample_language,
    script:
        "../scripts/asr.py"
