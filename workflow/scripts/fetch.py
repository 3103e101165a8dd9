"""Rules fetch_tatoeba, fetch_ud, fetch_xnli, fetch_bucc, fetch_mono: place one fetch unit of the
rule's data set under data/raw/ (mirror copy or download)."""

from langrep.data.fetch import fetch_outputs
from langrep.logs import log_to_file
from langrep.settings.data import DataSettings

DATASETS = {
    "fetch_tatoeba": "tatoeba",
    "fetch_ud": "ud",
    "fetch_xnli": "xnli",
    "fetch_bucc": "bucc2018",
    "fetch_mono": "mono",
}

log_to_file(snakemake.log[0])
fetch_outputs(
    DATASETS[snakemake.rule],
    snakemake.output,
    DataSettings.from_config(snakemake.config["data"]),
    snakemake.params.options,
)
