"""A stage package's public API, named in its ``__init__`` and imported on first use (PEP 562).

A stage package names every public function and class of its modules, but importing the package
imports none of them: ``import langrep.means.representations`` (numpy) does not load torch through
``langrep.means.layer_shift``, and stage modules that import each other's modules form no cycle
through the packages' ``__init__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence


def lazy_exports(package: str, api: Mapping[str, Sequence[str]]) -> tuple[list[str], Callable, Callable]:
    """``__all__``, ``__getattr__`` and ``__dir__`` of ``package`` for ``api``: module name (relative
    to the package) to the public names it defines."""
    home = {name: module for module, names in api.items() for name in names}
    if len(home) != sum(len(names) for names in api.values()):
        raise ValueError(f"{package}: a name is exported by two of its modules")

    def __getattr__(name: str):
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{home[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(home)

    return sorted(home), __getattr__, __dir__
