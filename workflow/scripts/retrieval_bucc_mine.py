"""Rule retrieval_bucc_mine: the candidates of one BUCC pair and split."""
from langrep.logs import log_to_file
from langrep.paths import resolve_plan
from langrep.retrieval import run_bucc_mine

smk = snakemake  # noqa: F821 - injected by Snakemake
log_to_file(smk.log[0])
p = smk.params
run_bucc_mine(
    spec=resolve_plan(p.plan, smk.input),
    output=smk.output[0],
    layers=p.layers,
    headline=p.layer,
    methods=p.methods,
    k=p.k,
    block_size=p.block_size,
    threads=smk.threads,
    device=p.device,
)
