# Helpers of workflow/rules/corpora.smk: its settings, input functions and targets
# (functions live apart from rules, as snakemake --lint asks).

from langrep.data import corpora as _corpora
from langrep.data import sources as _sources

# The mirror ($LANGREP_DATA_MIRROR overrides data.mirror) is resolved once, when the workflow is parsed.
DATA = _sources.DataSettings.from_config(config.get("data"))
_MIRROR = None if DATA.mirror is None else str(DATA.mirror)
RAW = _sources.DEFAULT_RAW_ROOT


def _raw_root(wildcards, output):
    # every fetched file lies under RAW; derived from the output so no path prefix is hard-coded
    path = str(output[0])
    if not path.startswith(f"{RAW}/"):
        raise ValueError(f"{path} is not under {RAW}")
    return path[: len(RAW)]


def corpora_targets():
    return []
