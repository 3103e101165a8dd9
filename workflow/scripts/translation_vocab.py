from langrep.logs import log_to_file
from langrep.translation.data import prepare_vocab

log = log_to_file(snakemake.log[0])
sets = prepare_vocab(
    model=snakemake.wildcards.model,
    model_dir=snakemake.input.model,
    xnli_paths=dict(zip(snakemake.params.langs, snakemake.input.xnli)),
    source=snakemake.params.source,
    sets_out=snakemake.output.sets,
    table_out=snakemake.output.table,
)
log.info("token sets: %s", {lang: len(ids) for lang, ids in sets.items()})
