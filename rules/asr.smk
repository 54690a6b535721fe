rule model_info:
    """Identify the model once per run: backend, model id, checksum of the model files."""
    output:
        "results/work/model/{backend}.json",
    log:
        "results/logs/model_info/{backend}.log",
    benchmark:
        "results/benchmarks/model_info/{backend}.tsv"
    conda:
        "../envs/firescribe.yaml"
    params:
        # the backend's options, less those that weigh hotwords (firescribe.plumbing.params)
        options=SETTINGS.asr.model_params(),
    script:
        "../scripts/model_info.py"


rule prepare_model:
    """Convert the released FireRedASR-AED files once into the configured variant: ONNX
    graphs (fp32 or int8) for ONNX Runtime, or fp16 weights for CUDA."""
    input:
        released_model_files,
    output:
        directory(f"{PREPARED_DIR}/{{variant}}"),
    log:
        "results/logs/prepare_model/{variant}.log",
    benchmark:
        "results/benchmarks/prepare_model/{variant}.tsv"
    conda:
        "../envs/firescribe.yaml"
    threads: SETTINGS.placement.threads
    resources:
        mem_mb=16000,
    params:
        model_dir=config["fireredasr_aed"]["model_dir"],
        # a new format of the prepared files re-runs this step
        format=lambda wildcards: FIREREDASR_VARIANTS[wildcards.variant],
    script:
        "../scripts/prepare_model.py"


rule asr:
    """Transcribe one chunk of a shard's inputs with the configured backend (one model load)."""
    input:
        audio="results/work/audio/{shard}",
        plan="results/work/plan/{shard}.json",
        model=f"results/work/model/{SETTINGS.backend}.json",
        prepared=prepared_model_input,
        # the corpus's hotword list and the files' own: editing one re-runs the files it covers
        hotwords=hotword_lists,
    output:
        "results/work/asr/{shard}/{chunk}.json",
    log:
        "results/logs/asr/{shard}/{chunk}.log",
    benchmark:
        "results/benchmarks/asr/{shard}/{chunk}.tsv"
    conda:
        "../envs/firescribe.yaml"
    threads: SETTINGS.placement.threads
    resources:
        mem_mb=4000,
        # GPU jobs: cap them with `--resources gpu=2 gpu_mem_mb=24000` (see README)
        gpu=gpu_job,
        gpu_mem_mb=lambda wildcards: (
            SETTINGS.placement.gpu_mem_mb if gpu_job(wildcards) else 0
        ),
    params:
        samples=members,
        asr=SETTINGS.asr.params(),
        language=sample_language,
        gpu_locks="results/work/gpu-locks",
    script:
        "../scripts/asr.py"
