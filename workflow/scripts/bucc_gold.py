"""Rule bucc_gold: the gold pairs of one BUCC pair and split, ids checked, into gold.parquet."""

from langrep.data.corpora import write_bucc_gold
from langrep.logs import log_to_file
from langrep.paths import RAW_ROOT
from langrep.settings.data import DataSettings, naming_mirror_files

log = log_to_file(snakemake.log[0])
with naming_mirror_files(RAW_ROOT, DataSettings.from_config(snakemake.config["data"]).mirror):
    n = write_bucc_gold(out=snakemake.output[0], **{name: snakemake.input[name] for name in snakemake.input.keys()})
log.info("%s: %d gold pairs", snakemake.output[0], n)
