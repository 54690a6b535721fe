rule asr:
    """Transcribe one chunk of units with the configured backend."""
    input:
        wav=WORK + "/audio/{sample}.wav",
        plan=WORK + "/plan/{sample}.json",
    output:
        WORK + "/asr/{sample}/{chunk}.json",
    params:
        asr=asr_params(),
        language=sample_language,
    log:
        LOGS + "/asr/{sample}/{chunk}.log",
    benchmark:
        BENCH + "/asr/{sample}/{chunk}.tsv"
    threads: config["asr"]["threads"]
    resources:
        mem_mb=4000,
    conda:
        "../envs/firescribe.yaml"
    script:
        "../scripts/asr.py"
