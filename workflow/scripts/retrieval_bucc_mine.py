"""Rule retrieval_bucc_mine: the candidates of one BUCC pair and split."""

from langrep.logs import log_to_file
from langrep.paths import resolve_plan
from langrep.retrieval import run_bucc_mine

smk = snakemake  # noqa: F821 - injected by Snakemake
log_to_file(smk.log[0])
p = smk.params
# the rule's params are the keys of config retrieval: this job reads (the others keep their defaults);
# its layers param is the layers mined (retrieval.bucc.layers, or retrieval.layers where that is null)
settings = {
    "layer": p.layer,
    "methods": p.methods,
    "block_size": p.block_size,
    "device": p.device,
    "bucc": {"layers": p.layers, "k": p.k},
}
run_bucc_mine(resolve_plan(p.plan, smk.input), smk.output[0], settings, threads=smk.threads)
