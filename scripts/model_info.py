from firescribe.io import write_json
from firescribe.models import model_info
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
write_json(snakemake.output[0], model_info(snakemake.wildcards.backend, snakemake.params.options))
