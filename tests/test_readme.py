"""The README is a user's page: short, the two fresh-machine commands first, no commit ids or dated
measurements (those live on docs/benchmarks.md, where each table states its date, commit, machine
and command), and every link it makes resolves."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BENCHMARKS = (ROOT / "docs/benchmarks.md").read_text()

COMMANDS = [
    'python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 -e ".[workflow]" && snakemake --cores all',  # noqa: E501
    'python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 -e ".[test]" && python -m pytest',
]
# a git object id as a commit is cited: 7-40 hex digits with at least one digit and one letter
COMMIT_ID = re.compile(r"\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b")


def test_readme_is_at_most_150_lines():
    assert len(README.splitlines()) <= 150


def test_readme_has_no_commit_ids_or_dates():
    assert COMMIT_ID.findall(README) == []
    assert [m.group(0) for m in DATE.finditer(README)] == []


def test_the_patterns_find_what_they_look_for():
    assert COMMIT_ID.findall("measured on 8e42763, not on e5-small or deadbeef") == ["8e42763"]
    assert DATE.search("recorded 2026-11-27") is not None


def test_the_first_code_block_is_the_two_fresh_machine_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    assert first_block.splitlines() == COMMANDS
    assert README.index("```bash") < README.index("## What a run produces")


@pytest.mark.parametrize("page", ["docs/index.md", "docs/install.md"])
def test_the_docs_give_the_same_commands(page):
    text = (ROOT / page).read_text()
    assert all(c in text for c in COMMANDS), page


def test_readme_links_resolve():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    assert "docs/benchmarks.md" in targets and "docs/images/report.png" in targets
    missing = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert missing == []


def _sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", markdown, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_benchmark_table_states_date_commit_machine_and_command():
    tables = {title: text for title, text in _sections(BENCHMARKS).items() if "|---" in text}
    assert len(tables) >= 6
    for title, text in tables.items():
        assert DATE.search(text), f"benchmarks section {title!r} states no date"
        assert COMMIT_ID.search(text), f"benchmarks section {title!r} states no commit"
        assert re.search(r"machine", text, re.I), f"benchmarks section {title!r} states no machine"
        assert re.search(r"command", text, re.I), f"benchmarks section {title!r} states no command"
