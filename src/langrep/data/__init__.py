"""The evaluation data: what each data set is and where it comes from (:mod:`.catalog`), placing its
files from the offline mirror or the official source (:mod:`.fetch`, :mod:`.download`,
:mod:`.registry`), format readers (:mod:`.readers`) and normalization into
``data/corpora/{corpus}/{lang}.parquet`` (:mod:`.corpora`). The ``data:`` config section is
:class:`langrep.settings.DataSettings`."""

from langrep._exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "catalog": [
            "Treebank",
            "describe",
            "fetch_relpaths",
            "mono_relpath",
            "resolve_tatoeba_langs",
            "tatoeba_relpaths",
            "ud_relpath",
            "xnli_relpaths",
        ],
        "fetch": ["fetch", "fetch_outputs"],
        "download": ["download"],
        "readers": ["read_bucc_gold", "read_bucc_sentences", "read_conllu", "read_plain_text", "read_tatoeba", "read_xnli"],
        "corpora": ["CorpusId", "normalize_corpus", "normalize_placed", "parse_corpus", "write_bucc_gold"],
    },
)
