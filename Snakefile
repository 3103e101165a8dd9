# langrep: language representations in multilingual encoders (Liu et al., 2020).
# Run:  snakemake --cores all            (workstation, config/config.yaml)
#       snakemake --profile profiles/slurm --configfile config/paper.yaml   (GPU cluster)
from snakemake.utils import min_version

min_version("8.0")


# --configfile replaces the default config instead of being merged into it
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/corpora.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/retrieval.smk"
include: "workflow/rules/translation.smk"
include: "workflow/rules/transfer.smk"
include: "workflow/rules/report.smk"


STAGE_TARGETS = [
    "extract_targets",
    "retrieval_targets",
    "translation_targets",
    "transfer_targets",
    "report_targets",
]


rule all:
    input:
        [t for name in STAGE_TARGETS for t in globals()[name]()],
    default_target: True
