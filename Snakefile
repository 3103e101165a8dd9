# langrep: language representations in multilingual encoders (Liu et al., 2020).
# Run:  snakemake --cores all            (workstation, config/config.yaml)
#       snakemake --profile profiles/slurm --configfile config/paper.yaml   (GPU cluster)
from snakemake.utils import min_version

from langrep.settings import merged_config

min_version("9.0")


configfile: "config/config.yaml"


# The config is redone from the files and arguments themselves (langrep.settings.merged_config):
# --configfile overlays and --config values merge onto the default key by key, --config values are
# read as YAML (Snakemake reads nested ones as strings), and an overlay's `models` replace the
# default's. --replace-workflow-config starts from nothing instead of config/config.yaml.
config.clear()
config.update(
    merged_config(
        None if workflow.config_settings.replace_workflow_config else "config/config.yaml",
        workflow.config_settings.configfiles,
        workflow.config_settings.config_args,
    )
)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/corpora.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/retrieval.smk"
include: "workflow/rules/translation.smk"
include: "workflow/rules/transfer.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/report.smk"


onstart:
    # Temporaries that a killed run (kill -9, a lost node) left behind: atomic_write names them with
    # host and pid, so only those of dead processes on this host go (a live run's stay).
    from langrep.io import remove_orphaned_temporaries

    for path in remove_orphaned_temporaries(["data", "results", "reports"]):
        logger.info(f"removed {path}, left by a killed run")


STAGE_TARGETS = [
    "extract_targets",
    "retrieval_targets",
    "translation_targets",
    "transfer_targets",
    "analysis_targets",
    "report_targets",
]


rule all:
    default_target: True
    input:
        [t for name in STAGE_TARGETS for t in globals()[name]()],
