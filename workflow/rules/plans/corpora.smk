# The plans of workflow/rules/corpora.smk: which files feed each job, its settings and resources, and
# the stage's targets (functions live apart from rules, as snakemake --lint asks).

from langrep.data import catalog as _catalog
from langrep.data import corpora as _corpora
from langrep.data import fetch as _fetch

RELPATHS = _catalog.RELPATHS


def raw_outputs(dataset):
    """The raw files of one fetch unit of ``dataset`` under data/raw/ (patterns from the catalog)."""
    return {side: path("raw", relpath=rel) for side, rel in RELPATHS[dataset].items()}


def fetch_options(dataset, **options):
    """What one fetch job places. Download-only settings (mono size, Wikipedia dump, UD release) are
    added only without a mirror, so that changing them does not refetch (and rerun) mirrored files."""
    if DATA.mirror is None and dataset == "mono":
        options.update(n_sentences=DATA.mono_sentences, dump=DATA.wikipedia_dump)
    if DATA.mirror is None and dataset == "ud":
        options.update(release=DATA.ud_release)
    return options


def fetch_source(dataset, **options):
    """Where the bytes come from, as a rerun trigger: the sha256 of each mirror file (a raw copy
    follows the mirror file's content, not the mirror's path; a missing file fails here, while the
    DAG is built), or "download" (the official source)."""
    if DATA.mirror is None:
        return "download"
    return {rel: _fetch.mirror_sha256(DATA.mirror, rel, dataset) for rel in _catalog.fetch_relpaths(dataset, **options)}


# ---------------------------------------------------------------- corpora a fetch job normalizes
# Each maps an output name of the fetch rule to (corpus, lang), as langrep.data.corpora.normalize_placed takes it.
XNLI_CORPUS = "xnli_test"  # the split translation reads; every language of it, so that the outputs are fixed

# mono/<lang> from its own text file; the stand-ins (a UD or Tatoeba file, with a mirror that has no
# mono/<lang>.txt) are normalize_corpus's. Followed by "." in every path of fetch_mono.
_MONO_STAND_INS = [lang for lang in _catalog.MONO_STAND_INS if _catalog.mono_stand_in(lang, DATA.mirror)]
MONO_TEXT_LANG = (f"(?!(?:{'|'.join(_MONO_STAND_INS)})\\.)" if _MONO_STAND_INS else "") + "[a-z]{2,3}"


def bucc_corpora(xx, split):
    """The corpora fetch_bucc writes: both sides and the gold pairs of the pair and split."""
    corpus = f"bucc_{xx}-en_{split}"
    return {"corpus_xx": (corpus, xx), "corpus_en": (corpus, "en"), "corpus_gold": (corpus, _corpora.GOLD)}


def xnli_corpora():
    """The corpora fetch_xnli writes: the XNLI split translation reads, in every XNLI language."""
    return {f"corpus_{lang}": (XNLI_CORPUS, lang) for lang in _catalog.XNLI_LANGS}


def xnli_corpus_outputs():
    """fetch_xnli's corpus files, by the output names of :func:`xnli_corpora`."""
    return {name: path("corpus", corpus=corpus, lang=lang) for name, (corpus, lang) in xnli_corpora().items()}
