# Shared paths and helpers for every stage. Paths say what a file is (see DEVELOPERS.md).
import os

from snakemake.utils import validate

from langrep.models import random_base
from langrep.settings import CONFIG_SCHEMA, model_stages

validate(config, schema=str(CONFIG_SCHEMA))

MODELS = list(config["models"])
EXTRACTION = config["extraction"]
# gpu=1 on the GPU-bound rules only where the config asks for it (the SLURM profile maps it to
# --gpus); a CPU-only run requests none.
GPU = 1 if config.get("gpu", False) else 0
# Heavy jobs (extraction, head fitting, translation, transfer, BUCC) take half the cores each, so
# two run side by side and one's start-up (imports, model and tokenizer load: ~10 s on 2 cores)
# overlaps the other's compute. Snakemake caps threads at the cores a job really gets.
JOB_THREADS = max(1, (workflow.cores or 2) // 2)


wildcard_constraints:
    model=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    corpus=r"[^/]+",
    lang=r"[a-z]{2,3}",


def model_dir(model):
    return f"data/models/{model}"


def stage_models(stage):
    """The models that run ``stage`` (models.<key>.stages; every stage by default)."""
    return [m for m in MODELS if stage in model_stages(config, m)]


def random_base_dir(model):
    """The folder a random:<key> control copies its architecture and tokenizer from ([] otherwise)."""
    base = random_base(str(config["models"][model]["source"]))
    return [] if base is None else [model_dir(base)]


def corpus_path(corpus, lang):
    return f"data/corpora/{corpus}/{lang}.parquet"


def embeddings_path(model, corpus, lang):
    return f"results/{model}/embeddings/{corpus}/{lang}.parquet"


def sums_path(model, corpus, lang):
    return f"results/{model}/sums/{corpus}/{lang}.parquet"


def means_path(model, corpus, lang):
    return f"results/{model}/means/{corpus}/{lang}.parquet"
