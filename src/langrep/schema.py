"""The packaged config schema: the one place a default lives, and the config's validation.

:func:`with_defaults` fills a config (or one section of it) with the schema's defaults where it
leaves a key out, the way the workflow's validation (Snakemake's ``validate``) fills them: a
property's own ``default``, then the defaults inside it (through local ``$ref`` links and into
the entries of mappings such as ``models``). A ``$ref`` alone carries no default (a task's
``train`` overrides hold only what the config sets). The settings objects (:mod:`langrep.settings`) are built
from that. Types and ranges are the
schema's to check (the workflow validates the config against it); this module only refuses a key
the schema does not know.
"""

from __future__ import annotations

import copy
import difflib
import functools
import math
from collections.abc import Mapping
from pathlib import Path

import yaml

from langrep.errors import LangrepError

# The config schema: types, shapes and every default (packaged, so the library reads it too).
CONFIG_SCHEMA = Path(__file__).resolve().parent / "resources" / "config.schema.yaml"


@functools.cache
def _schema() -> dict:
    return yaml.safe_load(CONFIG_SCHEMA.read_text(encoding="utf-8"))


def _resolved(node: Mapping) -> Mapping:
    """``node`` with its local ``$ref`` followed (the keys beside the ``$ref`` win)."""
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise LangrepError(f"{CONFIG_SCHEMA}: only local $refs (#/...) are followed, got {ref!r}")
        target = _schema()
        for part in ref[2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def child_node(node: Mapping, name: str) -> Mapping | None:
    """The (unresolved) schema of key ``name`` of an object ``node``: its property, else the schema
    every other key takes (``additionalProperties``); None where the schema refuses the key."""
    props = node.get("properties") or {}
    if name in props:
        return props[name]
    extra = node.get("additionalProperties", True)
    if isinstance(extra, Mapping):
        return extra
    if extra is False:
        return None
    return {}


def unknown_key_error(node: Mapping, key: str, also: tuple[str, ...] = ()) -> LangrepError:
    """The error for a config ``key`` that schema ``node`` does not know, listing the keys it knows."""
    known = ", ".join(sorted([*(node.get("properties") or {}), *also]))
    return LangrepError(f"config key {key}: unknown; known: {known}")


def fill_defaults(node: Mapping, value, key: str):
    """``value`` (a copy) with the defaults of the resolved schema ``node`` filled in."""
    if not isinstance(value, Mapping) or ("properties" not in node and "additionalProperties" not in node):
        return copy.deepcopy(value)
    out = {}
    for name, v in value.items():
        sub = child_node(node, str(name))
        if sub is None:
            raise unknown_key_error(node, f"{key}.{name}")
        out[name] = fill_defaults(_resolved(sub), v, f"{key}.{name}")
    for name, sub in (node.get("properties") or {}).items():
        if name not in out and "default" in sub:  # the property's own default, not one behind a $ref
            out[name] = fill_defaults(_resolved(sub), sub["default"], f"{key}.{name}")
    return out


def section_schema(section: tuple[str, ...]) -> tuple[Mapping, Mapping | None]:
    """(resolved schema, unresolved property schema) of a section (None for the whole config)."""
    node: Mapping = _schema()
    raw = None
    for i, name in enumerate(section):
        raw = child_node(node, name)
        if raw is None:
            raise unknown_key_error(node, ".".join(section[: i + 1]))
        node = _resolved(raw)
    return node, raw


def with_defaults(mapping: Mapping | None, *section: str) -> dict:
    """``mapping``, the config section ``section`` (the whole config without one), with the schema's
    defaults where it leaves a key out; None = the section's own default. A key the schema does not
    know is a LangrepError naming it. Idempotent on a config the workflow validated."""
    node, raw = section_schema(section)
    if mapping is None:
        mapping = (raw or {}).get("default", {})
    return fill_defaults(node, mapping, ".".join(section) or "config")


def schema_defaults(*section: str) -> dict:
    """The defaults of a config section, e.g. ``schema_defaults("translation", "head")``."""
    return with_defaults(None, *section)


# At most this many schema errors are shown (each on one line); the rest are counted.
SHOWN_ERRORS = 3


def _key_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "config"


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(error) -> str:
    """One line for one jsonschema error: the key path, what is wrong, a close known value."""
    key, kind, schema, value = _key_path(error.absolute_path), error.validator, error.schema, error.instance
    if kind == "additionalProperties" and isinstance(value, Mapping):
        known = sorted(schema.get("properties") or {})
        lines = []
        for extra in sorted(k for k in value if k not in known):
            close = difflib.get_close_matches(str(extra), known, n=1)
            hint = f"; did you mean {_key_path([*error.absolute_path, close[0]])}?" if close else ""
            where = _key_path([*error.absolute_path, extra])
            lines.append(f"config key {where}: unknown key{hint} (known here: {', '.join(known)})")
        return "\n".join(lines)
    if kind == "enum":
        close = difflib.get_close_matches(str(value), [str(v) for v in error.validator_value], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"config key {key}: {_short(value)} is not one of {', '.join(map(repr, error.validator_value))}{hint}"
    if kind in ("oneOf", "anyOf") and error.context:
        options = sorted({e.message.replace(repr(value), "it") for e in error.context if not e.relative_path})
        return f"config key {key}: {_short(value)} is none of the allowed forms ({'; '.join(options)})"[:400]
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"config key {key}: {message}"


def _non_finite(value, parts=()):
    """The key paths of NaN and infinite numbers in a config (the schema's numbers are all finite)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield _key_path(parts), value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _non_finite(v, (*parts, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _non_finite(v, (*parts, i))


def validate_config(config: Mapping) -> dict:
    """``config`` checked against the schema and filled with its defaults (:func:`with_defaults`).

    A config the schema refuses is one LangrepError of a few lines, one per wrong key (at most
    :data:`SHOWN_ERRORS`): the key path, what is wrong, and the closest known key or value for a
    typo; the schema itself is in the docs (``config/README.md``), not in the message. NaN and
    infinite numbers are refused wherever they are (JSON schema cannot say so).
    """
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(_schema()).iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    lines = [_describe(e) for e in errors[:SHOWN_ERRORS]]
    if len(errors) > SHOWN_ERRORS:
        lines.append(f"(and {len(errors) - SHOWN_ERRORS} more)")
    lines += [f"config key {key}: {value} is not a finite number" for key, value in _non_finite(config)][:SHOWN_ERRORS]
    if lines:
        head = "the config does not fit the schema (src/langrep/resources/config.schema.yaml):"
        raise LangrepError("\n".join([head, *lines]))
    return with_defaults(config)
