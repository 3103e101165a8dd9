"""Rule script for extract_parallel: both sides of a Tatoeba or BUCC pair with one model load."""
from langrep.logs import log_to_file
from langrep.pipeline import extract_parallel_corpus

snakemake = globals()["snakemake"]  # injected by Snakemake
log_to_file(snakemake.log[0])
extract_parallel_corpus(
    [
        {"corpus_path": snakemake.input[side], "embeddings_path": snakemake.output[f"{side}_embeddings"],
         "sums_path": snakemake.output[f"{side}_sums"]}
        for side in ("xx", "en")
    ],
    model_dir=snakemake.input.model,
    settings=snakemake.params.extraction,
    pooled_layers=snakemake.params.pooled_layers,
    threads=snakemake.threads,
)
