"""Tree decoding for the parser: Eisner's algorithm with a single root.

Greedy decoding (each word takes its best head) can return cycles or several words attached to
the root, which is not an analysis. :func:`eisner` returns the highest-scoring *projective* tree in
which exactly one word hangs from the root (Eisner 1996; the single-root variant combines the two
complete spans of the root's only child with the root arc, as in Zmigrod et al. 2020's
discussion). O(n^3) work, vectorized over span starts. Projectivity loses the few crossing arcs of
the UD test treebanks; every predicted analysis is a tree.
"""

from __future__ import annotations

import numpy as np

from langrep.errors import LangrepError


def eisner(scores) -> list[int]:
    """Heads (1-based words; 0 = root) of the best projective single-root tree.

    ``scores``: (n, n + 1), ``scores[d - 1, h]`` = score of word d attached to head h (column 0
    is the root). The diagonal (a word as its own head) is never used. Scores add along the tree,
    so log-probabilities give the most probable tree."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != s.shape[0] + 1 or s.shape[0] < 1:
        raise LangrepError(f"eisner: expected scores of shape (n, n + 1) with n >= 1, got {s.shape}")
    if np.isnan(s).any():
        raise LangrepError("eisner: scores contain NaN")
    n = s.shape[0]
    arc = np.full((n + 1, n + 1), -np.inf)  # arc[h, d], nodes 0..n
    arc[:, 1:] = s.T
    neg = -np.inf
    # complete/incomplete spans over words i..j (1 <= i <= j <= n): right = headed at i, left = at j
    c_right, c_left = np.full((n + 2, n + 2), neg), np.full((n + 2, n + 2), neg)
    i_right, i_left = np.full((n + 2, n + 2), neg), np.full((n + 2, n + 2), neg)
    idx = np.arange(1, n + 1)
    c_right[idx, idx] = 0.0
    c_left[idx, idx] = 0.0
    back = {k: np.zeros((n + 2, n + 2), dtype=np.int64) for k in ("ir", "il", "cr", "cl")}
    for w in range(1, n):
        i = np.arange(1, n - w + 1)
        j = i + w
        # incomplete: C_right[i, k] + C_left[k + 1, j] for k in i..j-1, plus the arc between i and j
        ks = i[:, None] + np.arange(w)[None, :]
        base = c_right[i[:, None], ks] + c_left[ks + 1, j[:, None]]
        best = base.argmax(1)
        top = base[np.arange(len(i)), best]
        i_right[i, j] = top + arc[i, j]
        i_left[i, j] = top + arc[j, i]
        back["ir"][i, j] = back["il"][i, j] = ks[np.arange(len(i)), best]
        # complete right: I_right[i, k] + C_right[k, j] for k in i+1..j
        ks = i[:, None] + 1 + np.arange(w)[None, :]
        cand = i_right[i[:, None], ks] + c_right[ks, j[:, None]]
        best = cand.argmax(1)
        c_right[i, j] = cand[np.arange(len(i)), best]
        back["cr"][i, j] = ks[np.arange(len(i)), best]
        # complete left: C_left[i, k] + I_left[k, j] for k in i..j-1
        ks = i[:, None] + np.arange(w)[None, :]
        cand = c_left[i[:, None], ks] + i_left[ks, j[:, None]]
        best = cand.argmax(1)
        c_left[i, j] = cand[np.arange(len(i)), best]
        back["cl"][i, j] = ks[np.arange(len(i)), best]
    # the root's single child r: everything left of r hangs from r, and everything right of it
    total = arc[0, idx] + c_left[1, idx] + c_right[idx, n]
    root_child = int(idx[np.argmax(total)])
    if not np.isfinite(total.max()):
        raise LangrepError("eisner: no tree has a finite score")
    heads = [0] * (n + 1)
    heads[root_child] = 0
    stack = [("cl", 1, root_child), ("cr", root_child, n)]
    while stack:
        kind, a, b = stack.pop()
        if a == b:
            continue
        k = int(back[kind][a, b])
        if kind == "cr":  # I_right[a, k] + C_right[k, b]
            stack += [("ir", a, k), ("cr", k, b)]
        elif kind == "cl":  # C_left[a, k] + I_left[k, b]
            stack += [("cl", a, k), ("il", k, b)]
        else:  # an arc between a and b, then C_right[a, k] + C_left[k + 1, b]
            if kind == "ir":
                heads[b] = a
            else:
                heads[a] = b
            stack += [("cr", a, k), ("cl", k + 1, b)]
    return heads[1:]


def is_tree(heads) -> bool:
    """Whether ``heads`` (1-based; 0 = root) is a tree with exactly one word on the root."""
    n = len(heads)
    if sum(1 for h in heads if h == 0) != 1 or any(not 0 <= h <= n for h in heads):
        return False
    for start in range(1, n + 1):
        seen, node = set(), start
        while node != 0:
            if node in seen:
                return False
            seen.add(node)
            node = heads[node - 1]
    return True
