"""Whole-vocabulary decoding of the fitted MLM head: its shortlist against the matrix products alone.

Token translation and the MLM head's quality decode with ``FittedMLMHead.argmax``: the products of
the head's output with every row of the (packed) embedding matrix, a shortlist of the top ``k`` ids
per position, a float32 rescoring of the shortlist. On one thread, with e5-small's shape (250,002
pieces, hidden 384; a random head: the cost does not depend on the weights' values, the shortlist's
skipping a little does) and the dtype ``fast_dtype`` picks, it times in one run:

* ``gemm``: the chunked matrix products alone, nothing ranked: the bound;
* ``argmax``: langrep's decoding (:func:`langrep.translation.mlm_head.shortlist`: a chunk is
  ranked only for the rows whose maximum in it reaches their running ``k``-th best);
* ``per-chunk topk``: the products with a ``topk`` of every chunk (the decoding before the running
  shortlist), for reference;

and checks that both decodings give the same ids. Ratios to ``gemm`` are the overhead of ranking.

    PYTHONPATH=src python benchmarks/decode.py                  # 2,048 positions
    PYTHONPATH=src python benchmarks/decode.py --model data/models/e5-small   # its real embeddings
"""

from __future__ import annotations

import argparse
import time

import torch

from langrep.translation.mlm_head import FittedMLMHead, fast_dtype


@torch.inference_mode()
def per_chunk_topk(head: FittedMLMHead, hidden: torch.Tensor, block: int = 512, chunk: int = 4096, k: int = 4):
    """The decoding before the running shortlist: every chunk's top ``k``, then the best of those."""
    dtype = fast_dtype(hidden.device)
    packed = head._packed_weights(dtype)
    u = head.transform(hidden)
    out = []
    for i in range(0, len(u), block):
        ub = u[i : i + block]
        aug = torch.cat([ub, ub.new_ones(len(ub), 1), ub.new_zeros(len(ub), packed.shape[1] - ub.shape[1] - 1)], 1)
        vals, ids = [], []
        for s in range(0, len(packed), chunk):
            v, j = (aug.to(dtype) @ packed[s : s + chunk].T).topk(min(k, len(packed) - s), dim=-1)
            vals.append(v)
            ids.append(j + s)
        cand = torch.cat(ids, 1).gather(1, torch.cat(vals, 1).float().topk(k, dim=-1).indices)
        exact = torch.einsum("nh,nkh->nk", ub, head.decoder_weight[cand]) + head.bias[cand]
        out.append(cand.gather(1, exact.argmax(1, keepdim=True)).squeeze(1))
    return torch.cat(out)


@torch.inference_mode()
def gemm_only(head: FittedMLMHead, hidden: torch.Tensor, block: int = 512, chunk: int = 4096) -> None:
    """The same chunked products, nothing ranked."""
    packed = head._packed_weights(fast_dtype(hidden.device))
    x = torch.randn(min(block, len(hidden)), packed.shape[1]).to(packed.dtype)
    for _ in range(0, len(hidden), block):
        for s in range(0, len(packed), chunk):
            x @ packed[s : s + chunk].T


def best_of(fns: dict, repeats: int) -> dict[str, tuple[float, object]]:
    """The best time and the result of each function, the repeats interleaved (a machine whose
    speed drifts slows them alike)."""
    best = {name: (float("inf"), None) for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            result = fn()
            best[name] = (min(best[name][0], time.perf_counter() - t0), result)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=2048)
    parser.add_argument("--model", help="a materialized model folder: decode over its embeddings")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.model:
        from langrep.models import load_encoder
        from langrep.translation.mlm_head import input_embeddings

        emb = input_embeddings(load_encoder(args.model, dtype="float32")[0])
    else:
        emb = torch.randn(250_002, 384) * 0.05
    head = FittedMLMHead(emb, len(emb), width=1536).eval()
    with torch.no_grad():
        head.bias.normal_(0, 0.5)
    hidden = torch.randn(args.positions, emb.shape[1])
    head.argmax(hidden[:8])  # pack the weights outside the timings
    timed = best_of(
        {
            "gemm": lambda: gemm_only(head, hidden),
            "argmax": lambda: head.argmax(hidden),
            "per-chunk topk": lambda: per_chunk_topk(head, hidden),
        },
        args.repeats,
    )
    (t_gemm, _), (t_new, new), (t_old, old) = timed["gemm"], timed["argmax"], timed["per-chunk topk"]
    flops = 2 * len(hidden) * head._packed_weights(fast_dtype("cpu")).numel()
    print(f"{len(hidden)} positions x {len(emb)} pieces, {fast_dtype('cpu')}, 1 thread")
    print(f"gemm            {t_gemm:7.2f} s  {flops / t_gemm / 1e9:6.1f} GFLOP/s")
    print(f"argmax          {t_new:7.2f} s  {t_new / t_gemm:5.2f}x the products")
    print(f"per-chunk topk  {t_old:7.2f} s  {t_old / t_gemm:5.2f}x the products")
    print(f"argmax / per-chunk topk: {t_new / t_old:.2f}; same ids: {bool(torch.equal(new, old))}")


if __name__ == "__main__":
    main()
