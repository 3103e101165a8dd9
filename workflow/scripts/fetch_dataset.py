"""Rule script for fetch_<dataset>: place one data set's raw files under data/raw/ (mirror or download)."""
import logging

from langrep.data.sources import DataSettings, fetch

snakemake = globals()["snakemake"]  # injected by Snakemake
logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

# The mirror is read from the config, not from a param: its path is no rerun trigger (the params'
# `source` holds the mirror files' checksums instead).
mirror = DataSettings.from_config(snakemake.config.get("data")).mirror
try:
    paths = fetch(
        snakemake.params.dataset,
        raw_root=snakemake.params.raw_root,
        mirror=mirror,
        **dict(snakemake.params.options),
    )
    logging.info("placed %s (mirror: %s)", paths, mirror)
except Exception:
    logging.exception("fetch_%s failed", snakemake.params.dataset)  # so that the rule's log says why
    raise
