from langrep.logs import log_to_file
from langrep.provenance import write_provenance

log_to_file(snakemake.log[0])
write_provenance(snakemake.params.config, snakemake.output[0], repo=snakemake.params.repo)
