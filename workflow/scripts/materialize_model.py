from langrep.logs import log_to_file
from langrep.models import materialize_model

log = log_to_file(snakemake.log[0])
log.info("materialising %s (revision %s)", snakemake.params.source, snakemake.params.revision)
materialize_model(snakemake.params.source, snakemake.output[0], snakemake.params.revision)
