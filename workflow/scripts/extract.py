from langrep.logs import log_to_file
from langrep.pipeline import extract_corpus, rule_extraction

log_to_file(snakemake.log[0])
extract_corpus(
    corpus_path=snakemake.input.corpus,
    model_dir=snakemake.input.model,
    embeddings_path=snakemake.output.embeddings,
    sums_path=snakemake.output.sums,
    settings=rule_extraction(snakemake.params),
    threads=snakemake.threads,
)
