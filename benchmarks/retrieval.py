"""Exact top-4 cosine neighbours both ways (the k-NN step of BUCC mining): FAISS on the CPU against
langrep's torch path (blocked float32 matmul + top-k; on the GPU when there is one) and numpy.

    PYTHONPATH=src python benchmarks/retrieval.py                      # N = 100000, faiss + torch (+ numpy on a CPU)
    PYTHONPATH=src python benchmarks/retrieval.py --n 20000            # a few minutes on 2 cores
    PYTHONPATH=src python benchmarks/retrieval.py --methods faiss,torch --device cuda

    PYTHONPATH=src python benchmarks/retrieval.py --methods faiss --save-reference faiss.npz
    PYTHONPATH=src python benchmarks/retrieval.py --methods torch --device cuda --reference faiss.npz

Each method runs in its own process on the same seeded N x 768 random float32 vectors, so the
peak resident memory it reports (VmHWM) is its own (and peak GPU memory for the torch path on a
GPU). numpy is blocked too (a full 100k x 100k float32 similarity matrix is 40 GB):
``--numpy-block`` query rows at a time, top-k by argpartition. Every method's lists are compared
with FAISS's; ``--reference`` takes FAISS's lists from a file that ``--save-reference`` wrote (on
another machine, say: the vectors' checksum must match), instead of running FAISS again.
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
    from langrep.retrieval.knn_search import normalize

    rng = np.random.default_rng(seed)
    return normalize(rng.standard_normal((n, dim), dtype=np.float32)), normalize(
        rng.standard_normal((n, dim), dtype=np.float32)
    )


def numpy_knn(q: np.ndarray, d: np.ndarray, k: int, block: int):
    sims = np.empty((len(q), k), np.float32)
    inds = np.empty((len(q), k), np.int64)
    for s in range(0, len(q), block):
        m = q[s : s + block] @ d.T
        part = np.argpartition(-m, k - 1, axis=1)[:, :k]
        psim = np.take_along_axis(m, part, 1)
        order = np.argsort(-psim, axis=1)
        sims[s : s + block] = np.take_along_axis(psim, order, 1)
        inds[s : s + block] = np.take_along_axis(part, order, 1)
    return sims, inds


def _checksum(n: int, dim: int, seed: int) -> str:
    import hashlib

    x, y = _data(n, dim, seed)
    return hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()


def _load_reference(path: str, args) -> dict:
    ref = np.load(path)
    want = {"n": args.n, "dim": args.dim, "k": args.k, "seed": args.seed}
    got = {key: int(ref[key]) for key in want}
    if got != want:
        raise SystemExit(f"{path}: FAISS's lists were computed for {got}, not {want}")
    if str(ref["checksum"]) != _checksum(args.n, args.dim, args.seed):
        raise SystemExit(f"{path}: the seeded vectors differ here (another numpy?); rerun FAISS")
    return {
        "method": "faiss",
        "seconds": float(ref["seconds"]),
        "fwd": (ref["fwd_sims"], ref["fwd_inds"]),
        "bwd": (ref["bwd_sims"], ref["bwd_inds"]),
    }


def _run(method: str, args, threads: int, queue) -> None:
    import torch

    from langrep.models import resolve_device
    from langrep.retrieval.knn_search import knn

    if method == "faiss":
        import faiss

        faiss.omp_set_num_threads(threads)
    torch.set_num_threads(threads)
    device = resolve_device(args.device) if method == "torch" else "cpu"
    x, y = _data(args.n, args.dim, args.seed)
    base = _vm("VmRSS")
    if device.startswith("cuda"):
        knn(x[:1024], y[:1024], args.k, args.block_size, device=device)  # CUDA context and kernels, not timed
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    if method == "numpy":
        fwd, bwd = numpy_knn(x, y, args.k, args.numpy_block), numpy_knn(y, x, args.k, args.numpy_block)
    else:
        backend = "faiss" if method == "faiss" else "torch"
        fwd = knn(x, y, args.k, args.block_size, device=device, backend=backend)
        bwd = knn(y, x, args.k, args.block_size, device=device, backend=backend)
    seconds = time.perf_counter() - t
    gpu_mib = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
    queue.put(
        {
            "method": method,
            "device": device,
            "seconds": seconds,
            "base_mib": base,
            "peak_mib": _vm("VmHWM"),
            "gpu_mib": gpu_mib,
            "fwd": fwd,
            "bwd": bwd,
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="vectors per side (default 100000)")
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument(
        "--methods",
        default=None,
        help="comma-separated among faiss, torch, numpy (default: faiss,torch,numpy on a CPU, faiss,torch with a GPU)",
    )
    ap.add_argument("--device", default="auto", help="device of the torch path (auto: cuda when present)")
    ap.add_argument("--block-size", type=int, default=8192, help="query rows per search call (FAISS, torch)")
    ap.add_argument("--numpy-block", type=int, default=1024, help="query rows per numpy matmul")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save-reference", metavar="NPZ", help="write FAISS's lists (and its time) to this file")
    ap.add_argument("--reference", metavar="NPZ", help="FAISS's lists from --save-reference instead of running FAISS")
    args = ap.parse_args()
    from langrep.models import resolve_device

    gpu = resolve_device(args.device).startswith("cuda")
    methods = (args.methods or ("faiss,torch" if gpu else "faiss,torch,numpy")).split(",")
    if args.reference:
        methods = [m for m in methods if m != "faiss"]
    elif "faiss" not in methods:
        methods.insert(0, "faiss")  # the reference
    threads = args.threads or mp.cpu_count()
    ctx = mp.get_context("spawn")
    results = {"faiss": _load_reference(args.reference, args)} if args.reference else {}
    if args.reference:
        print(f"faiss: lists from {args.reference} ({results['faiss']['seconds']:.2f} s where they were computed)")
    for method in methods:
        q = ctx.Queue()
        p = ctx.Process(target=_run, args=(method, args, threads, q))
        p.start()
        results[method] = q.get()
        p.join()
        r = results[method]
        gpu_note = f", peak GPU {r['gpu_mib']:.0f} MiB" if r["gpu_mib"] is not None else ""
        print(
            f"{method:5s} ({r['device']}): {r['seconds']:8.2f} s for top-{args.k} both ways, N={args.n}, "
            f"dim={args.dim}, {threads} CPU threads; peak RSS {r['peak_mib']:.0f} MiB "
            f"({r['peak_mib'] - r['base_mib']:+.0f} MiB over the {r['base_mib']:.0f} MiB of data){gpu_note}",
            flush=True,
        )
    ref = results["faiss"]
    if args.save_reference:
        np.savez_compressed(
            args.save_reference,
            **{"n": args.n, "dim": args.dim, "k": args.k, "seed": args.seed, "seconds": ref["seconds"]},
            checksum=_checksum(args.n, args.dim, args.seed),
            **{f"{d}_{part}": ref[d][i] for d in ("fwd", "bwd") for i, part in enumerate(("sims", "inds"))},
        )
    for method in [m for m in methods if m != "faiss"]:
        r = results[method]
        same = np.mean([(ref[d][1] == r[d][1]).all(axis=1).mean() for d in ("fwd", "bwd")])
        diff = max(np.abs(ref[d][0] - r[d][0]).max() for d in ("fwd", "bwd"))
        print(
            f"{method} vs faiss: {100 * same:.3f}% of rows with identical top-{args.k} lists; "
            f"max |sim difference| {diff:.2e}; time ratio {r['seconds'] / ref['seconds']:.3f}x faiss's"
        )


if __name__ == "__main__":
    main()
