"""Rule normalize_corpus: one corpus and language from its raw files into data/corpora/{corpus}/{lang}.parquet."""

from langrep.data.corpora import normalize_corpus
from langrep.data.settings import DataSettings, naming_mirror_files
from langrep.logs import log_to_file
from langrep.paths import RAW_ROOT

smk = snakemake  # noqa: F821 - injected by Snakemake
log = log_to_file(smk.log[0])
with naming_mirror_files(RAW_ROOT, DataSettings.from_config(smk.config["data"]).mirror):
    n = normalize_corpus(
        smk.params.corpus,
        smk.params.lang,
        {name: smk.input[name] for name in smk.input.keys()},
        smk.output[0],
        mono_sentences=smk.params.mono_sentences,
        bucc_sentences=smk.params.bucc_sentences,
    )
log.info("%s: %d rows", smk.output[0], n)
