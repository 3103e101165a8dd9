from langrep.logs import log_to_file
from langrep.retrieval import run_tatoeba

log_to_file(snakemake.log[0])
p = snakemake.params
run_tatoeba(
    model=snakemake.wildcards.model,
    plan=p.plan,
    output=snakemake.output[0],
    layers=p.layers,
    headline=p.layer,
    methods=p.methods,
    directions=p.directions,
    block_size=p.block_size,
    threads=snakemake.threads,
    device=p.device,
)
