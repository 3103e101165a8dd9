"""Beyond the paper, end to end on a tiny model: a Tatoeba language outside the built-in set given by
its LASER code, a random control, and the language-means analysis (in a temporary folder)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_settings import private_mirror
from test_workflow import run, small_config, write_config


@pytest.mark.slow
def test_laser_codes_random_control_and_means_analysis(tmp_path, tiny_model_dir, shared_data):
    work = tmp_path / "work"
    # Dutch: its Tatoeba pair and mono text are copies of the German files, so it must score as German does
    mirror = private_mirror(tmp_path, shared_data, extra_tatoeba=["nld"], extra_mono=["nl"])
    cfg = small_config(tiny_model_dir, mirror)
    cfg["models"]["tiny-random"] = {"source": "random:tiny", "seed": 3, "stages": ["retrieval", "analysis"]}
    cfg["languages"] = ["en", "de", "nl"]
    cfg["extraction"]["pool_mono"] = True
    cfg["retrieval"]["tatoeba"]["langs"] = ["deu", "nld"]  # LASER's codes
    cfg["retrieval"]["bucc"]["pairs"] = []
    cfg["analysis"] = {"heldout_sentences": 10, "tokens_from": 100}
    write_config(work, cfg)

    # the control runs retrieval and the analysis, never translation or transfer
    dry = run(work, "-n").stdout
    for model in ("tiny", "tiny-random"):
        assert f"results/{model}/scores/tatoeba.csv" in dry and f"results/{model}/scores/means.csv" in dry
    assert "results/tiny/scores/translation.csv" in dry and "results/tiny/scores/pos.csv" in dry
    assert "results/tiny-random/scores/translation.csv" not in dry and "results/tiny-random/scores/pos.csv" not in dry

    targets = [f"results/{m}/scores/{t}.csv" for m in ("tiny", "tiny-random") for t in ("tatoeba", "means")]
    done = run(work, *targets, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    for model in ("tiny", "tiny-random"):
        tat = pd.read_csv(work / f"results/{model}/scores/tatoeba.csv")
        assert set(tat.lang) == {"de", "nl"}  # nld resolved to nl, deu to de
        key = ["layer", "method", "direction", "means"]
        de = tat[tat.lang == "de"].set_index(key)["value"].sort_index()
        nl = tat[tat.lang == "nl"].set_index(key)["value"].sort_index()
        pd.testing.assert_series_equal(de, nl, check_names=False)  # the same files score the same

        means = pd.read_csv(work / f"results/{model}/scores/means.csv")
        lid = means[(means.metric == "lid_accuracy") & (means.lang == "all")]
        assert set(lid.split) == {"mono", "tatoeba"} and set(lid.layer) == {0, 1, 2, 3}
        assert (means[means.metric == "prefix_cosine"].groupby("lang").n_tokens.max() > 100).all()
        assert {"mean_cosine", "diff_rel_en", "tatoeba_accuracy"} <= set(means.metric)
    assert (work / "data/models/tiny-random/langrep_source.json").read_text().count('"seed": 3') == 1
    a = pd.read_csv(work / "results/tiny/scores/tatoeba.csv")
    b = pd.read_csv(work / "results/tiny-random/scores/tatoeba.csv")
    assert not a["value"].equals(b["value"])  # other weights, other scores
