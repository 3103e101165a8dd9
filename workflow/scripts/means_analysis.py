"""Rule script for means_analysis: results/{model}/scores/means.csv."""
from langrep.logs import log_to_file
from langrep.means_analysis import run_means_analysis

snakemake = globals()["snakemake"]  # injected by Snakemake
log_to_file(snakemake.log[0])
p = snakemake.params
run_means_analysis(snakemake.wildcards.model, p.plan, snakemake.output[0], layer=p.layer, heldout=p.heldout,
                   directions=p.directions, grid_start=p.grid_start)
