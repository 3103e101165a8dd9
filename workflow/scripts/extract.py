from langrep.logs import log_to_file
from langrep.pipeline import extract_corpus

log_to_file(snakemake.log[0])
extract_corpus(
    corpus_path=snakemake.input.corpus,
    model_dir=snakemake.input.model,
    embeddings_path=snakemake.output.embeddings,
    sums_path=snakemake.output.sums,
    settings=snakemake.params.extraction,
    pooled_layers=snakemake.params.pooled_layers,
    threads=snakemake.threads,
)
