"""FAISS vs numpy brute force: exact top-4 cosine neighbours both ways (the k-NN step of BUCC mining).

    PYTHONPATH=src python benchmarks/retrieval.py            # N = 100000 (the issue's size)
    PYTHONPATH=src python benchmarks/retrieval.py --n 20000  # a few minutes on 2 cores

Each method runs in its own process on the same seeded N x 768 random float32 vectors, so the
peak resident memory it reports (VmHWM) is its own. numpy is blocked too (a full 100k x 100k float32
similarity matrix is 40 GB): ``--numpy-block`` query rows at a time, top-k by argpartition.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import time

import numpy as np


def _vm(key: str) -> float:
    """VmRSS / VmHWM of this process in MiB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _data(n: int, dim: int, seed: int):
    from langrep.retrieval import normalize

    rng = np.random.default_rng(seed)
    return normalize(rng.standard_normal((n, dim), dtype=np.float32)), \
        normalize(rng.standard_normal((n, dim), dtype=np.float32))


def numpy_knn(q: np.ndarray, d: np.ndarray, k: int, block: int):
    sims = np.empty((len(q), k), np.float32)
    inds = np.empty((len(q), k), np.int64)
    for s in range(0, len(q), block):
        m = q[s:s + block] @ d.T
        part = np.argpartition(-m, k - 1, axis=1)[:, :k]
        psim = np.take_along_axis(m, part, 1)
        order = np.argsort(-psim, axis=1)
        sims[s:s + block] = np.take_along_axis(psim, order, 1)
        inds[s:s + block] = np.take_along_axis(part, order, 1)
    return sims, inds


def _run(method: str, n: int, dim: int, k: int, seed: int, faiss_block: int, numpy_block: int,
         threads: int, queue) -> None:
    import faiss

    from langrep.retrieval import knn

    faiss.omp_set_num_threads(threads)
    x, y = _data(n, dim, seed)
    base = _vm("VmRSS")
    t = time.perf_counter()
    if method == "faiss":
        fwd = knn(x, y, k, faiss_block)
        bwd = knn(y, x, k, faiss_block)
    else:
        fwd = numpy_knn(x, y, k, numpy_block)
        bwd = numpy_knn(y, x, k, numpy_block)
    seconds = time.perf_counter() - t
    queue.put({"method": method, "seconds": seconds, "base_mib": base, "peak_mib": _vm("VmHWM"),
               "fwd": fwd, "bwd": bwd})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="vectors per side (default 100000)")
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--faiss-block", type=int, default=8192, help="query rows per FAISS search call")
    ap.add_argument("--numpy-block", type=int, default=1024, help="query rows per numpy matmul")
    ap.add_argument("--threads", type=int, default=0, help="threads (0 = all cores)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    threads = args.threads or mp.cpu_count()
    ctx = mp.get_context("spawn")
    results = {}
    for method in ("faiss", "numpy"):
        q = ctx.Queue()
        p = ctx.Process(target=_run, args=(method, args.n, args.dim, args.k, args.seed, args.faiss_block,
                                           args.numpy_block, threads, q))
        p.start()
        results[method] = q.get()
        p.join()
        r = results[method]
        print(f"{method:5s}: {r['seconds']:8.2f} s for top-{args.k} both ways, N={args.n}, dim={args.dim}, "
              f"{threads} threads; peak RSS {r['peak_mib']:.0f} MiB "
              f"({r['peak_mib'] - r['base_mib']:+.0f} MiB over the {r['base_mib']:.0f} MiB of data)", flush=True)
    f, nmp = results["faiss"], results["numpy"]
    same = np.mean([(f[d][1] == nmp[d][1]).all(axis=1).mean() for d in ("fwd", "bwd")])
    diff = max(np.abs(f[d][0] - nmp[d][0]).max() for d in ("fwd", "bwd"))
    print(f"agreement: {100 * same:.3f}% of rows with identical top-{args.k} lists; "
          f"max |sim difference| {diff:.2e}")
    print(f"speed ratio numpy/faiss: {nmp['seconds'] / f['seconds']:.2f}x")


if __name__ == "__main__":
    main()
