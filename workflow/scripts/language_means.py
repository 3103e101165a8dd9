from langrep.extraction.corpus import means_from_sums
from langrep.logs import log_to_file

log_to_file(snakemake.log[0])
means_from_sums(
    sums_paths=[snakemake.input.sums],
    corpus_path=snakemake.input.corpus,
    model_dir=snakemake.input.model,
    out_path=snakemake.output[0],
)
