"""Rules fetch_tatoeba, fetch_ud, fetch_xnli, fetch_bucc, fetch_mono: place one fetch unit of the
rule's data set under data/raw/ (mirror copy or download), then normalize the corpora the rule
names in ``params.corpora`` (mono, BUCC and XNLI: the fetch job writes their corpus files)."""

from langrep.data.corpora import normalize_placed
from langrep.data.fetch import fetch_outputs
from langrep.logs import log_to_file
from langrep.paths import RAW_ROOT
from langrep.settings.data import DataSettings, naming_mirror_files

DATASETS = {
    "fetch_tatoeba": "tatoeba",
    "fetch_ud": "ud",
    "fetch_xnli": "xnli",
    "fetch_bucc": "bucc2018",
    "fetch_mono": "mono",
}

log = log_to_file(snakemake.log[0])
data = DataSettings.from_config(snakemake.config["data"])
corpora = dict(getattr(snakemake.params, "corpora", None) or {})
corpus_files = {name: snakemake.output[name] for name in corpora}
made = set(corpus_files.values())
raw = [out for out in snakemake.output if out not in made]
fetch_outputs(DATASETS[snakemake.rule], raw, data, snakemake.params.options)
with naming_mirror_files(RAW_ROOT, data.mirror):
    rows = normalize_placed(corpora, corpus_files, data, raw_root=RAW_ROOT)
for name, n in rows.items():
    log.info("%s: %d rows", corpus_files[name], n)
