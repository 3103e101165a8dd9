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
