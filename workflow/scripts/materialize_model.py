from langrep.logs import log_to_file
from langrep.models import materialize_model

log = log_to_file(snakemake.log[0])
p = snakemake.params
log.info("materializing %s (revision %s, seed %s)", p.source, p.revision, p.seed)
materialize_model(
    p.source,
    snakemake.output[0],
    p.revision,
    base_dir=snakemake.input.base[0] if snakemake.input.base else None,
    seed=p.seed,
)
