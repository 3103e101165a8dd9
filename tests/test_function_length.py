"""No function or method in src/ runs over 80 lines (decorators excluded, docstring included): a
function that fits on a screen."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
LIMIT = 80


def long_functions(path: Path, limit: int = LIMIT, root: Path = SRC) -> list[str]:
    """``path:line name (n lines)`` of every function, method or nested function over ``limit``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(root).as_posix()
    nodes = sorted(
        (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), key=lambda n: n.lineno
    )
    return [
        f"{rel}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in nodes
        if node.end_lineno - node.lineno + 1 > limit
    ]


PROBE = """\
def short():
    a = 1
    return a


class C:
    def m(self):
        a = 1
        b = 2
        c = 3
        return a + b + c


def outer():
    def inner():
        a = 1
        b = 2
        c = 3
        return a + b + c

    return inner
"""


def test_the_walk_finds_a_long_method_and_a_long_nested_function(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    got = long_functions(tmp_path / "probe.py", limit=4, root=tmp_path)
    assert got == ["probe.py:7 m (5 lines)", "probe.py:14 outer (8 lines)", "probe.py:15 inner (5 lines)"]
    assert long_functions(tmp_path / "probe.py", limit=8, root=tmp_path) == []


def test_no_function_in_src_is_over_80_lines():
    found = [hit for path in sorted(SRC.rglob("*.py")) for hit in long_functions(path)]
    assert not found, "split these along their natural seams:\n" + "\n".join(found)
