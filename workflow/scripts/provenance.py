from pathlib import Path

from langrep.logs import log_to_file
from langrep.report.provenance import write_provenance

log_to_file(snakemake.log[0])
# the repository is found from this script's folder (workflow/scripts/), not passed as a param:
# an absolute path in params would rerun the report whenever the project moves
repo = Path(snakemake.scriptdir).parents[1]
write_provenance(
    snakemake.params.config,
    snakemake.output[0],
    repo=repo,
    data_files=snakemake.input.data,
    model_dirs=snakemake.input.models,
)
