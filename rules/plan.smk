checkpoint plan:
    """Merge speech segments into ASR units (<= max_unit_s) and group them into chunks (jobs)."""
    input:
        wav="results/work/audio/{sample}.wav",
        segments="results/work/vad/{sample}.tsv",
        # whether the model gives word times (cue-sized units where it does not)
        model=f"results/work/model/{SETTINGS.backend}.json",
    output:
        plan="results/work/plan/{sample}.json",
    log:
        "results/logs/plan/{sample}.log",
    benchmark:
        "results/benchmarks/plan/{sample}.tsv"
    conda:
        "../envs/firescribe.yaml"
    threads: 1
    params:
        plan=asdict(SETTINGS.plan),
    script:
        "../scripts/plan.py"
