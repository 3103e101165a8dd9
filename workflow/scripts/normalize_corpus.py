"""Rule normalize_corpus: one corpus and language from its raw files into data/corpora/{corpus}/{lang}.parquet."""

from langrep.data.corpora import normalize_corpus
from langrep.logs import log_to_file
from langrep.paths import RAW_ROOT
from langrep.settings.data import DataSettings, naming_mirror_files

log = log_to_file(snakemake.log[0])
with naming_mirror_files(RAW_ROOT, DataSettings.from_config(snakemake.config["data"]).mirror):
    n = normalize_corpus(
        snakemake.params.corpus,
        snakemake.params.lang,
        {name: snakemake.input[name] for name in snakemake.input.keys()},
        snakemake.output[0],
        mono_sentences=snakemake.params.mono_sentences,
        bucc_sentences=snakemake.params.bucc_sentences,
    )
log.info("%s: %d rows", snakemake.output[0], n)
