# firescribe: long videos and recordings in, transcripts out.
#
#   media --extract--> 16 kHz WAV --vad--> speech segments --plan--> units & chunks
#         --asr (one job per chunk)--> chunk results --merge--> json/txt/srt/vtt/tsv per file
#         --corpus--> corpus.tsv / corpus.parquet for the whole corpus
#
# Configure in config/config.yaml (see config/README.md); run with `snakemake --cores N`.


configfile: "config/config.yaml"


include: "rules/common.smk"


rule all:
    input:
        expand(RESULTS + "/transcripts/{sample}.{ext}", sample=SAMPLES.index, ext=FORMATS),
        RESULTS + "/corpus.tsv",
        RESULTS + "/corpus.parquet",


include: "rules/extract.smk"
include: "rules/vad.smk"
include: "rules/plan.smk"
include: "rules/asr.smk"
include: "rules/merge.smk"
include: "rules/corpus.smk"
