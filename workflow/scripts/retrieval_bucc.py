from langrep.logs import log_to_file
from langrep.retrieval import run_bucc_scores

log_to_file(snakemake.log[0])
run_bucc_scores(model=snakemake.wildcards.model, plan=snakemake.params.plan, output=snakemake.output[0])
