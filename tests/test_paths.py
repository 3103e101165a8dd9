"""The path table and the plans that rules hand their scripts."""

import re
from pathlib import Path

import pytest

from langrep.errors import LangrepError
from langrep.paths import flatten_plan, path, resolve_plan

ROOT = Path(__file__).resolve().parents[1]


def test_paths_fill_the_given_wildcards_and_keep_the_others():
    assert path("means", model="m", corpus="mono", lang="de") == "results/m/means/mono/de.parquet"
    assert path("means", corpus="mono") == "results/{model}/means/mono/{lang}.parquet"
    assert (
        path("embeddings", corpus="{pairset}_{xx}-en{split}", lang="{xx}")
        == "results/{model}/embeddings/{pairset}_{xx}-en{split}/{xx}.parquet"
    )
    assert path("model") == "data/models/{model}"
    with pytest.raises(LangrepError, match="unknown artifact kind 'mean'"):
        path("mean")
    with pytest.raises(LangrepError, match=r"no wildcard\(s\) \['task'\]"):
        path("means", task="pos")


def test_a_plan_survives_flattening_into_named_inputs():
    plan = {
        "de": {"xx": "a.parquet", "en": "b.parquet", "means": {"eval": {"xx": "c", "en": "d"}, "mono": None}},
        "zh": {"xx": "e", "en": "f", "means": {}},
    }
    inputs, shape = flatten_plan(plan)
    assert inputs == {
        "in__de__xx": "a.parquet",
        "in__de__en": "b.parquet",
        "in__de__means__eval__xx": "c",
        "in__de__means__eval__en": "d",
        "in__zh__xx": "e",
        "in__zh__en": "f",
    }
    assert all(name.isidentifier() for name in inputs)
    assert shape["de"]["means"]["eval"]["xx"] == "in__de__means__eval__xx" and shape["de"]["means"]["mono"] is None
    assert resolve_plan(shape, inputs) == plan


def test_workflow_spells_no_artifact_path_and_no_config_default():
    """Rule files take artifact paths from the table and config values from the validated config."""
    for smk in sorted((ROOT / "workflow" / "rules").rglob("*.smk")):
        text = smk.read_text()
        code = "\n".join(line.split("#")[0] for line in text.splitlines())
        assert not re.search(r"\.get\(\s*[\"'][^\"']+[\"']\s*,", code), (
            f"{smk.name}: a config default outside the schema"
        )
        for root in ("results/", "data/corpora/", "data/models/"):
            assert f'"{root}' not in code and f'f"{root}' not in code, f"{smk.name} spells a {root} path"


def test_every_library_module_stays_under_400_lines():
    # a room a newcomer can read in one sitting: split a module that grows past this
    sizes = {
        p.relative_to(ROOT): len(p.read_text(encoding="utf-8").splitlines()) for p in ROOT.glob("src/langrep/**/*.py")
    }
    assert len(sizes) > 40
    assert {p: n for p, n in sizes.items() if n > 400} == {}
