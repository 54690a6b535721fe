rule orphans:
    """List the work files, logs, benchmarks and per-file store entries no current shard
    uses (firescribe.steps.prune): `snakemake --cores 1 orphans`. Nothing is removed."""
    log:
        "results/logs/orphans.log",
    localrule: True
    run:
        from firescribe.steps.prune import prune

        prune("results", SHARDS, delete=False, log_path=log[0])


rule prune:
    """Remove what `orphans` lists: `snakemake --cores 1 prune` (when no run is going)."""
    log:
        "results/logs/prune.log",
    localrule: True
    run:
        from firescribe.steps.prune import prune

        prune("results", SHARDS, delete=True, log_path=log[0])
