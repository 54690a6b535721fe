"""What the steps share: atomic writes, the sample table and shards, the per-file store, audio
read as memory maps, GPU placement, thread pinning, a job's logging."""
