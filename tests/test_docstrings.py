"""Every public module, function, class and method of src/langrep has a docstring (the API reference
of the docs site is built from them)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _public(node) -> bool:
    return isinstance(node, _DEFS) and not node.name.startswith("_")


def undocumented(path: Path, root: Path = SRC) -> list[str]:
    """``path:line name`` of every public definition in a module without a docstring: the module,
    its module-level functions and classes, and the public methods of its public classes."""
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(root).as_posix()
    missing = [] if ast.get_docstring(tree) else [f"{rel}: module docstring"]
    for node in filter(_public, tree.body):
        if not ast.get_docstring(node):
            missing.append(f"{rel}:{node.lineno} {node.name}")
        if isinstance(node, ast.ClassDef):
            for sub in filter(_public, node.body):
                if not isinstance(sub, ast.ClassDef) and not ast.get_docstring(sub):
                    missing.append(f"{rel}:{sub.lineno} {node.name}.{sub.name}")
    return missing


def test_the_walk_finds_an_undocumented_function(tmp_path):
    mod = tmp_path / "probe.py"
    source = (
        '"""A module."""\n\ndef f():\n    return 1\n\nclass C:\n    """C."""\n\n'
        "    def m(self):\n        pass\n\n    def _private(self):\n        pass\n"
    )
    mod.write_text(source)
    assert undocumented(mod, tmp_path) == ["probe.py:3 f", "probe.py:9 C.m"]
    mod.write_text("def g():\n    pass\n")
    assert undocumented(mod, tmp_path) == ["probe.py: module docstring", "probe.py:1 g"]


def test_every_public_definition_has_a_docstring():
    missing = [m for path in sorted((SRC / "langrep").rglob("*.py")) for m in undocumented(path)]
    assert not missing, "public definitions without a docstring:\n" + "\n".join(missing)
