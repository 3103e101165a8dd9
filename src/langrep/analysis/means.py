"""What the language means say, layer by layer: geometry, language identity, how much text they need.

For the languages of a run (one model), at every layer l (0 = the embedding output):

* **Geometry** of the means R_L^l: the cosine between every two languages' means, a 2-D PCA of the
  means, and the distance of each mean from English's, ``||R_L - R_en||`` (absolute, and relative
  to ``||R_en||``), which says where in the network language identity is largest.
* **Language identity**: which language a held-out sentence vector (its mean-pooled token states)
  comes from, Original and after Zero-mean (``h - R_L`` with the sentence's own language's mean).
  Three classifiers, each scored as the macro average of per-language accuracies (so a guess is
  right 1/k of the time, k = the number of candidate languages, whatever the class sizes):

  - ``means``: the nearest language mean (Euclidean), the means being those of the mono text that
    is not held out; Original only (after Zero-mean every language's mean is the origin).
  - ``heldout_means``: the nearest mean of the held-out sentences themselves, two-fold (each half is
    classified by the means of the other half). After Zero-mean it measures how much of a
    language's offset in the held-out text the mono mean leaves behind.
  - ``nearest_neighbour``: the language of the most similar other held-out sentence (cosine,
    leave-one-out). After Zero-mean it sees identity that lies beyond the mean (spread, direction).

  Held-out sentences: the last ``heldout`` sentences of each language's mono corpus (the means the
  classifiers and Zero-mean use are then those of the rest of the corpus), and the first
  ``heldout`` sentences of each Tatoeba side (never part of the mono text).
* **How much text a mean needs**: the cosine between the mean of the first n tokens of the mono
  corpus (whole sentences: the first prefix with at least n tokens) and the mean of all of it, for
  n = 1k, 2k, 5k, 10k, ... as far as the corpus goes, and their distance relative to the distance
  to the nearest other language's mean; and Tatoeba accuracy at the retrieval layer with Zero-mean
  and MDS when both sides' means come from the first n tokens.

Per-sentence token sums are the pooled vector times its token count, so every prefix mean comes from
the mono corpus's pooled sentence vectors (``extraction.pool_mono``); without them the analysis
keeps what the means files and the Tatoeba sides allow (geometry, identification of Tatoeba
sentences by the full means) and says so in the log. Rows go to ``results/{model}/scores/means.csv``
(task ``means``; columns as in :mod:`langrep.scores` plus ``classifier``, ``chance``,
``n_sentences``, ``n_tokens``, ``n_tokens_used``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from langrep.analysis.convergence import (
    PrefixMeans,
    convergence_rows,
    prefix_means,
    prefix_points,
    prefix_retrieval_rows,
    token_grid,
)
from langrep.artifacts import read_table
from langrep.errors import LangrepError
from langrep.extraction.hidden_states import pooled_layers_in, read_pooled
from langrep.means.representations import read_means
from langrep.retrieval.comparison import align_rows
from langrep.scores import write_scores
from langrep.settings import AnalysisSettings, RetrievalSettings

log = logging.getLogger(__name__)

TASK = "means"
# the keyword defaults below: config analysis's, and retrieval's layer and Tatoeba directions
DEFAULT, RETRIEVAL_DEFAULT = AnalysisSettings.defaults(), RetrievalSettings.defaults()


# ----------------------------------------------------------------------------------------------
# Geometry


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity between every two rows of ``vectors`` (k, H)."""
    v = np.asarray(vectors, dtype=np.float64)
    n = np.linalg.norm(v, axis=1, keepdims=True)
    if (n == 0).any():
        raise LangrepError("cosine of a zero vector is undefined")
    u = v / n
    return np.clip(u @ u.T, -1.0, 1.0)


def cluster_order(similarity: np.ndarray) -> list[int]:
    """Leaf order of an average-linkage hierarchical clustering on ``1 - similarity``: similar items
    end up next to each other (the order of a dendrogram's leaves, left to right)."""
    d = 1.0 - np.asarray(similarity, dtype=np.float64)
    clusters: dict[int, list[int]] = {i: [i] for i in range(len(d))}
    while len(clusters) > 1:
        keys = sorted(clusters)
        best = None
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                dist = d[np.ix_(clusters[a], clusters[b])].mean()
                if best is None or dist < best[0] - 1e-15:
                    best = (dist, a, b)
        _, a, b = best
        clusters[a] = clusters[a] + clusters.pop(b)
    return next(iter(clusters.values())) if clusters else []


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """The rows of ``vectors`` on their first two principal components (k, 2); each component's sign
    is fixed so that its largest loading is positive (the same input gives the same picture)."""
    x = np.asarray(vectors, dtype=np.float64)
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    comps = vt[:2]
    comps = comps * np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])[:, None]
    out = x @ comps.T
    return np.pad(out, ((0, 0), (0, 2 - out.shape[1])))


def geometry_rows(langs: Sequence[str], means: Mapping[str, np.ndarray], layers: Sequence[int]) -> list[dict]:
    """Cosine between every two means, PCA coordinates, and the distance from English's mean."""
    rows = []
    for layer in layers:
        m = np.stack([means[lang][layer] for lang in langs])
        sim = cosine_matrix(m)
        for i, a in enumerate(langs):
            for j in range(i + 1, len(langs)):
                rows.append(dict(lang=f"{a}-{langs[j]}", layer=layer, metric="mean_cosine", value=sim[i, j]))
        for lang, (p1, p2) in zip(langs, pca_2d(m)):
            rows += [
                dict(lang=lang, layer=layer, metric="pca_1", value=p1),
                dict(lang=lang, layer=layer, metric="pca_2", value=p2),
            ]
        if "en" in means:
            en = means["en"][layer]
            for lang in langs:
                dist = float(np.linalg.norm(means[lang][layer] - en))
                rows += [
                    dict(lang=lang, layer=layer, metric="diff_norm_en", value=dist),
                    dict(lang=lang, layer=layer, metric="diff_rel_en", value=dist / float(np.linalg.norm(en))),
                ]
    return [dict(r, method="original", split="mono") for r in rows]


# ----------------------------------------------------------------------------------------------
# Language identity


def nearest_centroid(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid (Euclidean) of every row of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    c = np.asarray(centroids, dtype=np.float64)
    d = (x * x).sum(1)[:, None] - 2.0 * x @ c.T + (c * c).sum(1)[None, :]
    return d.argmin(axis=1)


def nearest_neighbour_labels(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Leave-one-out 1-NN: the label of each row's most cosine-similar other row."""
    u = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(u, axis=1, keepdims=True)
    u = u / np.where(norms == 0, 1.0, norms)
    sim = u @ u.T
    np.fill_diagonal(sim, -np.inf)
    return np.asarray(labels)[sim.argmax(axis=1)]


def two_fold_centroid_labels(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each row classified by the nearest class mean of the other fold (rows alternate between two
    folds within each class, in order)."""
    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    fold = np.zeros(len(labels), dtype=int)
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if len(idx) < 2:
            raise LangrepError(f"two-fold identification needs at least 2 sentences of {c!r}, got {len(idx)}")
        fold[idx[1::2]] = 1
    pred = np.empty(len(labels), dtype=labels.dtype)
    for f in (0, 1):
        train, test = fold != f, fold == f
        cents = np.stack([x[train & (labels == c)].mean(axis=0) for c in classes])
        pred[test] = np.asarray(classes)[nearest_centroid(x[test], cents)]
    return pred


def macro_accuracy(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, dict[str, float]]:
    """Macro-averaged accuracy (%) over the true classes, and each class's accuracy (%)."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if len(labels) == 0:
        raise LangrepError("identification accuracy of an empty set is undefined")
    per = {str(c): 100.0 * float(np.mean(predicted[labels == c] == c)) for c in sorted(set(labels.tolist()))}
    return float(np.mean(list(per.values()))), per


def _stacked(vectors: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Language -> vectors as one matrix and its row labels."""
    return np.concatenate(list(vectors.values())), np.repeat(list(vectors), [len(v) for v in vectors.values()])


def identification_rows(
    x: np.ndarray, labels: np.ndarray, means: Mapping[str, np.ndarray], split: str, layer: int
) -> list[dict]:
    """Every classifier (and Original / Zero-mean) on the held-out vectors ``x`` with languages
    ``labels``; ``means``: the language means at this layer (the candidates of ``means``)."""
    labels = np.asarray(labels)
    present = sorted(set(labels.tolist()))
    missing = [lang for lang in present if lang not in means]
    if missing:
        raise LangrepError(f"identification: no language mean for {missing}")
    cands = sorted(means)
    zeroed = x - np.stack([means[lang] for lang in labels.tolist()])
    runs = [
        ("means", "original", np.asarray(cands)[nearest_centroid(x, np.stack([means[c] for c in cands]))], len(cands))
    ]
    for method, data in (("original", x), ("zero_mean", zeroed)):
        runs.append(("heldout_means", method, two_fold_centroid_labels(data, labels), len(present)))
        runs.append(("nearest_neighbour", method, nearest_neighbour_labels(data, labels), len(present)))
    rows = []
    for classifier, method, pred, k in runs:
        overall, per = macro_accuracy(labels, pred)
        base = dict(
            layer=layer, method=method, split=split, metric="lid_accuracy", classifier=classifier, chance=100.0 / k
        )
        rows.append(dict(base, lang="all", value=overall, n_sentences=len(labels)))
        rows += [dict(base, lang=lang, value=v, n_sentences=int((labels == lang).sum())) for lang, v in per.items()]
    return rows


# ----------------------------------------------------------------------------------------------
# Files -> means.csv


def _read_layer(path, layer: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Ids, token counts and pooled vectors (float32) of one layer of an embeddings file."""
    ids, x = read_pooled(path, layer)
    return ids, read_table(path, columns=["n_tokens"]).column("n_tokens").to_numpy().astype(np.int64), x


def _pooled_layers(paths) -> set[int]:
    out = None
    for p in paths:
        got = set(pooled_layers_in(p))
        out = got if out is None else out & got
    return out or set()


def analyse_model(
    model: str,
    plan: Mapping,
    layer: int = RETRIEVAL_DEFAULT.layer,
    heldout: int = DEFAULT.heldout_sentences,
    directions: Sequence[str] = tuple(RETRIEVAL_DEFAULT.tatoeba.directions),
    grid_start: int = DEFAULT.tokens_from,
) -> list[dict]:
    """Every row of ``means.csv`` for one model.

    ``plan``: ``langs`` (the run's languages), ``means`` (lang -> means file), ``mono`` (lang ->
    the mono corpus's embeddings file with pooled vectors; may be empty), ``tatoeba`` (xx ->
    ``{"xx": path, "en": path}``, the Tatoeba sides for identification and prefix retrieval).
    """
    langs = list(plan["langs"])
    means = {lang: read_means(plan["means"][lang]).means for lang in langs}
    n_states = {m.shape[0] for m in means.values()}
    if len(n_states) != 1:
        raise LangrepError(f"the language means of {model} have different numbers of layers: {n_states}")
    all_layers = list(range(n_states.pop()))
    rows = geometry_rows(langs, means, all_layers)

    mono = dict(plan.get("mono") or {})
    pairs = {xx: p for xx, p in (plan.get("tatoeba") or {}).items() if xx in means}
    if not mono:
        log.info(
            "%s: no pooled mono sentences (extraction.pool_mono is false): no convergence curves, "
            "no mono held-out identification, identification of Tatoeba sentences by the full means",
            model,
        )
    mono_layers = _pooled_layers(mono.values()) if mono else set()
    tat_layers = _pooled_layers([p for pair in pairs.values() for p in pair.values()]) if pairs else set()

    for l in all_layers:
        full = {lang: means[lang][l] for lang in langs}
        lid_means, held = dict(full), {}
        prefixes: dict[str, PrefixMeans] = {}
        if l in mono_layers:
            for lang, path in mono.items():
                _, counts, x = _read_layer(path, l)
                prefixes[lang] = prefix_means(
                    x, counts, [*token_grid(int(counts.sum()), grid_start), int(counts.sum())]
                )
                rows += convergence_rows(
                    lang, l, prefixes[lang], full[lang], [m for other, m in full.items() if other != lang]
                )
                if len(x) >= 2 * heldout:  # the rest keeps most of the corpus
                    rest = slice(0, len(x) - heldout)
                    lid_means[lang] = (x[rest] * counts[rest, None]).sum(0, dtype=np.float64) / counts[rest].sum()
                    held[lang] = x[len(x) - heldout :]
                else:
                    log.info(
                        "%s: %s has %d mono sentences, fewer than 2 x %d: not held out", model, lang, len(x), heldout
                    )
            if len(held) >= 2:
                rows += identification_rows(*_stacked(held), lid_means, "mono", l)
        if l in tat_layers and pairs:
            xx_sides = {xx: _read_layer(p["xx"], l) for xx, p in pairs.items()}
            sides = {xx: side[2][:heldout] for xx, side in xx_sides.items()}
            first = next(iter(pairs.values()))
            if "en" in means:
                sides["en"] = _read_layer(first["en"], l)[2][:heldout]
            if len(sides) >= 2:
                rows += identification_rows(*_stacked(sides), lid_means, "tatoeba", l)
            if l == layer and "en" in prefixes:
                for xx, p in pairs.items():
                    if xx not in prefixes:
                        continue
                    xx_ids, _, xv = xx_sides[xx]
                    en_ids, _, ev = _read_layer(p["en"], l)
                    ev = align_rows(ev, en_ids, xx_ids, f"{p['xx']} and {p['en']}")
                    points = prefix_points(prefixes[xx], prefixes["en"], full[xx], full["en"])
                    rows += prefix_retrieval_rows(xx, l, xv, ev, points, directions)
    return [dict({"model": model, "task": TASK, "direction": ""}, **r) for r in rows]


def run_means_analysis(
    model: str,
    plan: Mapping,
    output,
    settings: AnalysisSettings | Mapping | None = None,
    retrieval: RetrievalSettings | Mapping | None = None,
) -> None:
    """:func:`analyse_model` into ``output`` (``results/{model}/scores/means.csv``); ``settings``:
    config ``analysis:``, ``retrieval``: config ``retrieval:`` (its layer and Tatoeba directions),
    each a settings object or a mapping of some of its keys."""
    s, r = AnalysisSettings.from_config(settings), RetrievalSettings.from_config(retrieval)
    rows = analyse_model(
        model,
        plan,
        layer=r.layer,
        heldout=s.heldout_sentences,
        directions=r.tatoeba.directions,
        grid_start=s.tokens_from,
    )
    write_scores(rows, output)
    log.info("%s: %d rows", output, len(rows))
