import logging

from firescribe.corpus import corpus_table, summary, write_corpus
from firescribe.workflow import setup_logging

setup_logging(snakemake.log[0])
table = corpus_table(list(snakemake.params.transcripts), snakemake.params.references)
write_corpus(table, snakemake.output.tsv, snakemake.output.parquet)
logging.getLogger("firescribe").info("\n%s", summary(table))
