"""Rule materialize_model: data/models/{model}/ as a transformers folder."""

from langrep.logs import log_to_file
from langrep.models import materialize_model

log = log_to_file(snakemake.log[0])
# params.model: source, and the revision (hub id, folder) or seed (random:<key>) the source uses
m = snakemake.params.model
log.info("materializing %s (revision %s, seed %s)", m["source"], m["revision"], m["seed"])
materialize_model(
    m["source"],
    snakemake.output[0],
    m["revision"],
    base_dir=snakemake.input.base[0] if snakemake.input.base else None,
    seed=m["seed"] or 0,
)
