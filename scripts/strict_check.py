import pandas as pd

from firescribe.corpus import check_strict
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
check_strict(pd.read_csv(snakemake.input[0], sep="\t", keep_default_na=False))
