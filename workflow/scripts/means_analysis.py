"""Rule means_analysis: results/{model}/scores/means.csv."""

from langrep.analysis.means import run_means_analysis
from langrep.logs import log_to_file
from langrep.paths import resolve_plan

log_to_file(snakemake.log[0])
p = snakemake.params
plan = {"langs": list(p.langs), **resolve_plan(p.plan, snakemake.input)}
run_means_analysis(
    snakemake.wildcards.model,
    plan,
    snakemake.output[0],
    settings={"heldout_sentences": p.heldout, "tokens_from": p.grid_start},
    retrieval={"layer": p.layer, "tatoeba": {"directions": p.directions}},
)
