"""What the score tables' bootstrap intervals add to the retrieval and translation jobs, at the
default run's sizes (config/config.yaml), on synthetic per-unit counts.

* Tatoeba: 11 pairs x 1,000 queries, layers 0..12, Original + (Zero-mean, MDS) x 2 means sources,
  both directions (``langrep.retrieval.tatoeba.add_intervals``);
* BUCC: zh-en dev, 1,500 source sentences, 13 layers, 5 mined (method, means) pairs
  (``langrep.retrieval.bucc.unit_counts`` and ``add_intervals``);
* translation: 12 directions (en -> 6 targets and back), 100 lines at the table layer and 5 at the
  13 other layers, 5 alphas, 3 metrics (``langrep.translation.metrics.add_intervals``; the per-line
  BLEU statistics replace sacrebleu's corpus score, the same work, so they are not counted).

Each figure is the wall time of the added step alone, with config transfer.bootstrap's resamples:

    python benchmarks/intervals.py [--bootstrap 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from langrep import retrieval as R
from langrep.retrieval import bucc as B
from langrep.translation import metrics as T


def tatoeba(n_boot: int, rng) -> float:
    keys = [("original", None)] + [(m, s) for m in ("zero_mean", "mds") for s in ("eval", "mono")]
    t0 = time.perf_counter()
    for _ in range(11):
        correct, rows = {}, []
        for layer in range(13):
            for method, source in keys:
                for d in ("xx-en", "en-xx"):
                    correct[(layer, method, d, source)] = rng.random(1000) < 0.6
            for method, source in [(m, s) for m in ("original", "zero_mean", "mds") for s in ("eval", "mono")]:
                for d in ("xx-en", "en-xx"):
                    rows.append(dict(layer=layer, method=method, direction=d, means=source))
        R.add_intervals(rows, correct, n_boot, 13)
    return time.perf_counter() - t0


def bucc(n_boot: int, rng) -> float:
    n = 1500
    src = [f"zh-{i:06d}" for i in range(n)]
    gold = {(s, f"en-{i:06d}") for i, s in enumerate(src[:400])}
    keys = [("original", "")] + [(m, s) for m in ("zero_mean", "mds") for s in ("eval", "mono")]
    t0 = time.perf_counter()
    counts, rows = {}, []
    units = pd.Index(src)
    for layer in range(13):
        for method, source in keys:
            tgt = [f"en-{j:06d}" for j in rng.integers(0, 500, n)]
            cands = pd.DataFrame({"src_id": src, "tgt_id": tgt, "score": rng.random(n) + 1})
            counts[("dev", layer, method, source)] = B.unit_counts(cands, 1.5, gold, units)
        for method, source in [(m, s) for m in ("original", "zero_mean", "mds") for s in ("eval", "mono")]:
            for metric in ("precision", "recall", "f1", "threshold"):
                rows.append(dict(split="dev", layer=layer, method=method, means=source, metric=metric))
    B.add_intervals(rows, counts, n_boot, 13)
    return time.perf_counter() - t0


def translation(n_boot: int, rng) -> float:
    alphas = [-1.0, 0.0, 1.0, 2.0, 3.0]
    directions = [("en", t) for t in ("de", "fr", "ur", "sw", "zh", "el")]
    sources = {"en": directions, **{t: [(t, "en")] for _, t in directions}}
    t0 = time.perf_counter()
    for pairs in sources.values():
        rows, lines = [], {}
        for s, t in pairs:
            for layer in range(13):
                n = 100 if layer == 10 else 5
                for a in alphas:
                    outs = [list(rng.integers(0, 400, 30)) for _ in range(n)]
                    tokens = T.token_line_counts(outs, set(range(0, 250)), set(range(150, 400)))
                    bleu = rng.integers(0, 20, size=(n, 4)).astype(float)
                    for metric, per in (("bleu1", bleu), ("convert_rate", tokens), ("neither_share", tokens)):
                        rows.append(dict(lang=f"{s}-{t}", layer=layer, alpha=a, metric=metric))
                        lines[(f"{s}-{t}", layer, a, metric)] = per
        T.add_intervals(rows, lines, n_boot, 13)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for name, fn in (("tatoeba", tatoeba), ("bucc", bucc), ("translation", translation)):
        print(f"{name}: {fn(args.bootstrap, rng):.2f} s added")


if __name__ == "__main__":
    main()
