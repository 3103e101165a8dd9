"""MkDocs hook: pages generated at build time, so that they follow the code without edits.

- ``reference/config.md``: every key of the config schema (src/langrep/resources/config.schema.yaml)
  with its type, default and description;
- ``api/<module>.md``: one mkdocstrings page per module of src/langrep, found by walking the package
  (a module that moves or appears gets its page and its place in the nav by itself).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "src/langrep/resources/config.schema.yaml"
PACKAGE = ROOT / "src/langrep"
CONFIG_PAGE = "reference/config.md"


# ------------------------------------------------------------------------------ the config schema
def _resolve(schema: dict, node: dict) -> dict:
    """``node`` with its ``$ref`` followed (keys beside the ``$ref`` win over the target's). A
    default is never taken through a ``$ref``: the validator fills only a node's own default (a
    task's ``train`` overrides have none)."""
    if "$ref" not in node:
        return node
    target = functools.reduce(lambda at, part: at[part], node["$ref"].removeprefix("#/").split("/"), schema)
    merged = {k: v for k, v in _resolve(schema, target).items() if k != "default"}
    merged.update({k: v for k, v in node.items() if k != "$ref"})
    return merged


def _type(schema: dict, node: dict) -> str:
    """A short human form of a node's type: ``integer``, ``integer or null``, ``one of a, b``, ``list of ...``."""
    node = _resolve(schema, node)
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if "oneOf" in node:
        return " or ".join(_type(schema, alt) for alt in node["oneOf"])
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    words = []
    for kind in kinds:
        if kind == "array" and "items" in node:
            item = _type(schema, node["items"])
            words.append(f"list of ({item})" if " " in item else f"list of {item}")
        elif kind == "object" and isinstance(node.get("additionalProperties"), dict):
            words.append("mapping")
        else:
            words.append({"array": "list", "object": "mapping", "number": "number"}.get(kind, kind))
    return " or ".join(words) or "any"


def _limits(node: dict) -> str:
    """Bounds and patterns of a value (``>= 1``, ``<= 1``, ``matches ^...$``)."""
    out = []
    for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in node:
            out.append(f"{sign} {node[key]}")
    if node.get("minItems") == 1:
        out.append("non-empty")
    elif "minItems" in node:
        out.append(f"at least {node['minItems']} items")
    if "pattern" in node:
        out.append(f"matches `{node['pattern']}`")
    return ", ".join(out)


def _default(node: dict) -> str:
    if "default" not in node:
        return "(required)" if node.get("_required") else "—"
    return f"`{json.dumps(node['default'], ensure_ascii=False)}`"


def _aliases(node: dict) -> bool:
    """Whether every property of ``node`` is a bare ``$ref`` (a section that repeats another's keys,
    such as a task's ``train`` overrides): listed as one row, not key by key."""
    props = node.get("properties") or {}
    return bool(props) and all(set(sub) == {"$ref"} for sub in props.values())


def schema_keys(schema: dict) -> list[tuple[str, dict]]:
    """(dotted key, resolved node) for every property of the schema, sections included, in schema
    order; the entries of a mapping of named items (``models``) appear as ``models.*.source``."""
    rows: list[tuple[str, dict]] = []

    def walk(node: dict, prefix: str) -> None:
        node = _resolve(schema, node)
        required = set(node.get("required", []))
        for name, sub in (node.get("properties") or {}).items():
            resolved = dict(_resolve(schema, sub), _required=name in required)
            rows.append((prefix + name, resolved))
            if not _aliases(resolved):
                walk(resolved, prefix + name + ".")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and "properties" in _resolve(schema, extra):
            walk(extra, prefix + "*.")

    walk(schema, "")
    return rows


def _cell(text: str) -> str:
    """One table cell: whitespace folded, pipes escaped, and ``<...>`` outside code spans shown as
    text, not read as HTML."""
    parts = " ".join(str(text).split()).replace("|", "\\|").split("`")
    return "`".join(p if i % 2 else re.sub(r"<(?=[A-Za-z/!?])", "&lt;", p) for i, p in enumerate(parts))


def config_reference(schema: dict) -> str:
    """The configuration reference page: one table per top-level section, every key with its type,
    default and description."""
    lines = [
        "# Configuration reference",
        "",
        "Generated from `src/langrep/resources/config.schema.yaml` when the docs are built: every key,",
        "its type, its default (the value a missing key takes) and its description. The",
        "[configuration guide](../configuration.md) explains how configs are merged and checked, with",
        "a longer word on each key.",
        "",
    ]
    section = None
    for key, node in schema_keys(schema):
        top = key.split(".")[0]
        if top != section:
            section = top
            lines += ["", f"## `{top}`", ""]
            lines += ["| key | type | default | description |", "|---|---|---|---|"]
        limits = _limits(node)
        kind = _type(schema, node) + (f" ({limits})" if limits else "")
        lines.append(f"| `{key}` | {_cell(kind)} | {_cell(_default(node))} | {_cell(node.get('description', ''))} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ the API pages
def api_modules(package: Path = PACKAGE) -> list[str]:
    """Dotted names of every public module of the package (no ``_private`` parts), sorted."""
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts[1:]):
            continue
        names.append(".".join(parts))
    return names


def _api_path(module: str) -> str:
    return "api/" + module.replace(".", "/") + ".md"


# ------------------------------------------------------------------------------ MkDocs events
def on_config(config, **kwargs):
    """Put the API pages into the nav, under its ``API reference`` entry."""
    for entry in config["nav"]:
        if isinstance(entry, dict) and "API reference" in entry:
            entry["API reference"] = [{"Overview": "api/index.md"}] + [
                {module: _api_path(module)} for module in api_modules()
            ]
    return config


def on_files(files, config, **kwargs):
    """Add the generated pages to the site's files."""
    from mkdocs.structure.files import File

    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    files.append(File.generated(config, CONFIG_PAGE, content=config_reference(schema)))
    for module in api_modules():
        files.append(File.generated(config, _api_path(module), content=f"# `{module}`\n\n::: {module}\n"))
    return files
