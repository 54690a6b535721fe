checkpoint plan:
    """Merge speech segments into ASR units (<= max_unit_s) and group them into chunks (jobs)."""
    input:
        wav=WORK + "/audio/{sample}.wav",
        segments=WORK + "/vad/{sample}.tsv",
    output:
        plan=WORK + "/plan/{sample}.json",
    params:
        plan=plan_params(),
    log:
        LOGS + "/plan/{sample}.log",
    benchmark:
        BENCH + "/plan/{sample}.tsv"
    threads: 1
    conda:
        "../envs/firescribe.yaml"
    script:
        "../scripts/plan.py"
