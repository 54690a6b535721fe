checkpoint plan:
    """Merge a shard's speech segments into ASR units (<= max_unit_s), pack short files'
    units into model inputs, and group the inputs into chunks (ASR jobs)."""
    input:
        audio="results/work/audio/{shard}",
        segments="results/work/vad/{shard}.tsv",
        # whether the model gives word times (cue-sized units where it does not)
        model=f"results/work/model/{SETTINGS.backend}.json",
    output:
        plan="results/work/plan/{shard}.json",
    log:
        "results/logs/plan/{shard}.log",
    benchmark:
        "results/benchmarks/plan/{shard}.tsv"
    conda:
        "../envs/firescribe.yaml"
    threads: 1
    params:
        samples=members,
        plan=asdict(SETTINGS.plan),
    script:
        "../scripts/plan.py"
