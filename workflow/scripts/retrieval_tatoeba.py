"""Rule retrieval_tatoeba: results/{model}/scores/tatoeba.csv."""
from langrep.logs import log_to_file
from langrep.paths import resolve_plan
from langrep.retrieval import run_tatoeba

smk = snakemake  # noqa: F821 - injected by Snakemake
log_to_file(smk.log[0])
p = smk.params
run_tatoeba(
    model=smk.wildcards.model,
    plan=resolve_plan(p.plan, smk.input),
    output=smk.output[0],
    layers=p.layers,
    headline=p.layer,
    methods=p.methods,
    directions=p.directions,
    block_size=p.block_size,
    threads=smk.threads,
    device=p.device,
)
