"""Rule script for fetch_<dataset>: place one data set's raw files under data/raw/ (mirror or download)."""
import logging

from langrep.data.sources import fetch

snakemake = globals()["snakemake"]  # injected by Snakemake
logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

try:
    paths = fetch(
        snakemake.params.dataset,
        raw_root=snakemake.params.raw_root,
        mirror=snakemake.params.mirror,
        **dict(snakemake.params.options),
    )
    logging.info("placed %s (mirror: %s)", paths, snakemake.params.mirror)
except Exception:
    logging.exception("fetch_%s failed", snakemake.params.dataset)  # so that the rule's log says why
    raise
