"""Rule script for retrieval_bucc_mine: the candidates of one BUCC pair and split."""
from langrep.logs import log_to_file
from langrep.retrieval import run_bucc_mine

snakemake = globals()["snakemake"]  # injected by Snakemake
log_to_file(snakemake.log[0])
p = snakemake.params
run_bucc_mine(
    spec=p.spec,
    output=snakemake.output[0],
    layers=p.layers,
    headline=p.layer,
    methods=p.methods,
    k=p.k,
    block_size=p.block_size,
    threads=snakemake.threads,
    device=p.device,
)
