# Helpers of workflow/rules/corpora.smk: its settings, input functions and targets
# (functions live apart from rules, as snakemake --lint asks).

from langrep.data import corpora as _corpora
from langrep.data import catalog as _catalog
from langrep.data import fetch as _fetch
from langrep.data import settings as _data_settings
from langrep.paths import RAW_ROOT
from langrep.model_limits import check_model_limits, describe_later
from langrep.settings import check_config

# The mirror ($LANGREP_DATA_MIRROR overrides data.mirror) is resolved once, when the workflow is parsed.
DATA = _data_settings.DataSettings.from_config(config["data"])
if workflow.is_main_process:  # one line at the start of a run (jobs re-read the workflow)
    logger.info(_data_settings.describe_source(config["data"]["mirror"], DATA.mirror))
_data_settings.check_mirror(DATA.mirror)  # a wrong mirror fails here, before any job (and any deletion)
# every language, pair and model source must exist: a config that cannot run fails here too
check_config(config, DATA.mirror)
# every layer and length fits each model (langrep.model_limits): before the DAG, so no job that
# cannot run is scheduled and no cached output is removed for one
_unchecked = check_model_limits(config)
if _unchecked:
    logger.info(describe_later(_unchecked))
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
