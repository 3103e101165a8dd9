"""The docs describe every key of the config schema (the hand-written guide docs/configuration.md and
the reference the docs build generates from the schema), and both shipped configs validate."""

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "src/langrep/resources/config.schema.yaml").read_text())
DOCS = (ROOT / "docs/configuration.md").read_text()


def _load_docs_hook():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs/hooks/generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = _load_docs_hook()
REFERENCE = HOOK.config_reference(SCHEMA)


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
        assert f"`{train_key}`" in DOCS, f"docs/configuration.md does not describe transfer train key {train_key!r}"
    else:
        assert f"`{path}`" in DOCS, f"docs/configuration.md does not describe {path!r}"


@pytest.mark.parametrize("path,train_key", sorted(set(_keys(SCHEMA)), key=lambda x: x[0]))
def test_every_schema_key_is_in_the_generated_reference(path, train_key):
    if train_key is not None:  # a task's train overrides are one row; their keys are transfer.train's
        assert f"| `{path.rsplit('.', 1)[0]}` |" in REFERENCE
        path = f"transfer.train.{train_key}"
    assert f"| `{path}` |" in REFERENCE, f"the generated configuration reference has no row for {path!r}"


def test_the_reference_rows_carry_type_default_and_description():
    rows = {line.split(" | ")[0]: line for line in REFERENCE.splitlines() if line.startswith("| `")}
    assert rows["| `retrieval.bucc.k`"] == (
        "| `retrieval.bucc.k` | integer (>= 1) | `4` | neighbourhood size of LASER's ratio margin |"
    )
    assert rows["| `models.*.source`"].startswith("| `models.*.source` | string | (required) | Hugging Face hub id")
    assert "| `translation.head.lr` | number (> 0) | `0.003` |" in rows["| `translation.head.lr`"]
    assert "| `transfer.train.dropout` | number (>= 0, <= 1) | `0.1` |" in rows["| `transfer.train.dropout`"]
    assert "| `transfer.parsing.train` | mapping | `{}` |" in rows["| `transfer.parsing.train`"]
    assert "| `transfer.parsing.train.dropout`" not in rows  # the overrides are not repeated key by key
    assert "one of `auto`, `cpu`, `cuda`" in rows["| `extraction.device`"]


def test_the_api_pages_cover_every_module():
    modules = HOOK.api_modules()
    assert {"langrep", "langrep.means.representations", "langrep.data.catalog", "langrep.report.build"} <= set(modules)
    package = ROOT / "src/langrep"
    public = {
        p
        for p in package.rglob("*.py")
        if not any(q.startswith("_") and q != "__init__.py" for q in p.relative_to(package).parts)
    }
    assert len(modules) == len(public)


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_shipped_configs_validate(name):
    from snakemake.utils import validate

    config = yaml.safe_load((ROOT / "config" / name).read_text())
    validate(config, str(ROOT / "src/langrep/resources/config.schema.yaml"))
