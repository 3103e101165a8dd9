"""config/README.md documents every key of the config schema, and both shipped configs validate."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "src/langrep/resources/config.schema.yaml").read_text())
DOCS = (ROOT / "config/README.md").read_text()


def _resolve(node):
    ref = node.get("$ref")
    if ref is None:
        return node
    target = SCHEMA
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def _keys(node, prefix=""):
    """(dotted path, is-a-training-setting) for every property in the schema."""
    node = _resolve(node)
    for name, sub in (node.get("properties") or {}).items():
        path = f"{prefix}{name}"
        sub_resolved = _resolve(sub)
        is_train = "$ref" in sub and "transfer_train" in sub["$ref"]
        if is_train:
            for key in sub_resolved["properties"]:
                yield f"{path}.{key}", key
        else:
            if not sub_resolved.get("properties"):  # sections are documented through their keys
                yield path, None
            yield from _keys(sub_resolved, path + ".")
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and "properties" in extra:  # models.<key>.source
        for name in extra["properties"]:
            yield f"{prefix}*.{name}", None


def test_schema_walk_finds_the_known_keys():
    paths = {p for p, _ in _keys(SCHEMA)}
    assert {
        "data.mirror",
        "extraction.token_budget",
        "retrieval.bucc.k",
        "models.*.source",
        "translation.head.steps",
        "transfer.pos.layers",
        "transfer.train.lr",
    } <= paths


@pytest.mark.parametrize("path,train_key", sorted(set(_keys(SCHEMA)), key=lambda x: x[0]))
def test_every_schema_key_is_documented(path, train_key):
    if train_key is not None:  # the training settings are one table, by bare key
        assert f"`{train_key}`" in DOCS, f"config/README.md does not describe transfer train key {train_key!r}"
    else:
        assert f"`{path}`" in DOCS, f"config/README.md does not describe {path!r}"


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_shipped_configs_validate(name):
    from snakemake.utils import validate

    config = yaml.safe_load((ROOT / "config" / name).read_text())
    validate(config, str(ROOT / "src/langrep/resources/config.schema.yaml"))
