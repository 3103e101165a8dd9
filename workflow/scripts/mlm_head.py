import torch

from langrep.logs import log_to_file
from langrep.translation.mlm_head_preparation import prepare_head

log = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
prepare_head(
    model_dir=snakemake.input.model,
    mono_paths=dict(zip(snakemake.params.langs, snakemake.input.mono)),
    out_dir=snakemake.output[0],
    settings=snakemake.params.head,
    device=snakemake.params.device,
    decode_layer=snakemake.params.decode_layer,
    log=log.info,
)
