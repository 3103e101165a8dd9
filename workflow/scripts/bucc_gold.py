"""Rule bucc_gold: the gold pairs of one BUCC pair and split, ids checked, into gold.parquet."""

from langrep.data.corpora import write_bucc_gold
from langrep.data.settings import DataSettings, naming_mirror_files
from langrep.logs import log_to_file
from langrep.paths import RAW_ROOT

smk = snakemake  # noqa: F821 - injected by Snakemake
log = log_to_file(smk.log[0])
with naming_mirror_files(RAW_ROOT, DataSettings.from_config(smk.config["data"]).mirror):
    n = write_bucc_gold(out=smk.output[0], **{name: smk.input[name] for name in smk.input.keys()})
log.info("%s: %d gold pairs", smk.output[0], n)
