"""The base of every settings object: a frozen dataclass of one config section.

Its fields are the section's keys and have no literal defaults: :meth:`Settings.from_config` fills
what a mapping leaves out from the schema (:mod:`langrep.schema`, the one place a default lives) and
refuses a key the schema does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import ClassVar

from langrep.errors import LangrepError
from langrep.schema import child_node, fill_defaults, schema_defaults, section_schema, unknown_key_error


class Settings:
    """Base of a dataclass of one config section (``SECTION``): its fields are the section's keys.

    ``NESTED`` maps a field to the Settings class of its sub-section; ``BORROWED`` maps a field to
    the config key (elsewhere in the schema) whose default it takes.
    """

    SECTION: ClassVar[tuple[str, ...]] = ()
    NESTED: ClassVar[dict[str, type[Settings]]] = {}
    BORROWED: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def from_config(cls, mapping: Mapping | Settings | None = None, key: str | None = None):
        """The section ``mapping`` (None or {}: every default) as settings; an instance passes through.
        ``key`` names the section in errors (default: ``SECTION``, e.g. ``translation.head``)."""
        if isinstance(mapping, cls):
            return mapping
        key = key or ".".join(cls.SECTION)
        if mapping is not None and not isinstance(mapping, Mapping):
            raise LangrepError(f"config key {key}: expected a mapping of keys, got {mapping!r}")
        node, _ = section_schema(cls.SECTION)
        given = dict(mapping or {})
        for name in given:
            if name not in cls.BORROWED and child_node(node, str(name)) is None:
                raise unknown_key_error(node, f"{key}.{name}", tuple(cls.BORROWED))
        borrowed = {
            name: given.pop(name) if name in given else schema_defaults(*path[:-1])[path[-1]]
            for name, path in cls.BORROWED.items()
        }
        values = {**fill_defaults(node, given, key), **borrowed}
        names = {f.name for f in fields(cls)}
        if set(values) != names:  # the schema and the dataclass disagree: a bug, not bad input
            raise TypeError(
                f"{cls.__name__} fields {sorted(names)} differ from the keys of config "
                f"section {'.'.join(cls.SECTION)} {sorted(values)}"
            )
        for name, sub in cls.NESTED.items():
            values[name] = sub.from_config(values[name], f"{key}.{name}")
        return cls(**values)

    @classmethod
    def defaults(cls):
        """The section's schema defaults as settings."""
        return cls.from_config()
