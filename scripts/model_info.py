from firescribe.io import write_json
from firescribe.models import model_info
from firescribe.settings import options_from_params
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
backend = snakemake.wildcards.backend
write_json(snakemake.output[0], model_info(backend, options_from_params(backend, snakemake.params.options)))
