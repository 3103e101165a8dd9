"""Extraction throughput from raw text: langrep against a naive loop and against the matmul bound.

On the same sentences from the mirror (Tatoeba first, then the mono corpora, then XNLI premises and
hypotheses), with the XLM-R tokenizer of the bundled e5 model and an mBERT-sized random model (12
layers, hidden 768, feed-forward 3072; its embedding table sized to the tokenizer), it measures
what a user waits for, tokenization included:

* tokens/s of ``langrep.extraction.hidden_states.extract`` from the texts (background tokenization, length-sorted
  batches under a token budget, every layer from one forward pass, pooled vectors and float64 sums);
* tokens/s of a naive loop as common evaluation scripts do it (tokenize 32 sentences, pad them to
  128, ``output_hidden_states``, masked means of every layer);
* the device's GEMM FLOP/s in the dtype used (measured in the same run on the model's own matrix
  shapes) divided by the model's FLOPs per token: the matmul bound on tokens/s;
* tokenization alone (one call) and the forward passes alone (``iter_batches`` over ids tokenized
  beforehand), for reference: what the end-to-end figure is made of.

"Tokens" are real (non-padding) tokens, special tokens included. Each mode runs in its own process
so that peak memory is its own. ``--dtype auto`` is what ``extraction.dtype: auto`` picks
(``langrep.models.resolve_dtype``).

    python benchmarks/extract.py                                  # CPU: 2,048 Tatoeba sentences
    python benchmarks/extract.py --device cuda                    # GPU: 100,000 sentences
    python benchmarks/extract.py --pooled-layers all 8            # one langrep row per pooled-layer set
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

MBERT = dict(
    num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512
)
TARGETS = {"cpu": (10.0, 0.75), "cuda": (10.0, 0.40)}  # (x naive loop, share of the matmul bound)


def sentences(mirror: Path, n: int) -> list[str]:
    """The first ``n`` of: Tatoeba (6 pairs, both sides), the mono corpora, XNLI (distinct premises
    and the hypotheses), repeated if ``n`` is larger still; shuffled (seeded), so that the naive
    loop's ``--naive-sentences`` prefix is a fair sample."""
    lines: list[str] = []
    for pair in ("deu", "fra", "rus", "cmn", "ara", "hin"):
        for side in (pair, "eng"):
            lines += (mirror / "tatoeba" / f"tatoeba.{pair}-eng.{side}").read_text(encoding="utf-8").splitlines()
    if n > len(lines):
        for path in sorted((mirror / "mono").glob("*.txt")):
            lines += path.read_text(encoding="utf-8").splitlines()
    if n > len(lines):
        for path in sorted((mirror / "xnli").glob("*.tsv")):
            rows = [r.split("\t") for r in path.read_text(encoding="utf-8").splitlines()]
            lines += list(dict.fromkeys(r[0] for r in rows)) + [r[1] for r in rows if len(r) > 1]
    lines = [s for s in lines if s.strip()]
    chosen = (lines * (n // len(lines) + 1))[:n]
    random.Random(0).shuffle(chosen)
    return chosen


def build_model(vocab: int, device, dtype):
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    with torch.device(device):  # initialised where it runs (seconds saved on a GPU)
        model = BertModel(BertConfig(vocab_size=vocab, **MBERT))
    return model.to(dtype=dtype).eval()


def flops_per_token(avg_len: float) -> float:
    h, f, l = MBERT["hidden_size"], MBERT["intermediate_size"], MBERT["num_hidden_layers"]
    dense = l * (4 * h * h + 2 * h * f)  # QKV + output projection + feed-forward, per token
    attention = l * 2 * avg_len * h  # QK^T and AV, per token, for a sequence of avg_len
    return 2.0 * (dense + attention)


def gemm_flops(device, dtype, tokens: int, repeats: int) -> tuple[float, float]:
    """Best FLOP/s over the model's own GEMM shapes (tokens x 768 x 3072, x 768 x 768, x 3072 x 768),
    per second of wall time and per second of this process's CPU time."""
    import torch

    h, f = MBERT["hidden_size"], MBERT["intermediate_size"]
    best, best_cpu = 0.0, 0.0
    for k, n in [(h, f), (h, h), (f, h)]:
        a = torch.randn(tokens, k, device=device, dtype=dtype)
        b = torch.randn(k, n, device=device, dtype=dtype)
        for _ in range(3):
            a @ b
        _sync(device)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            a @ b
        _sync(device)
        flops = 2 * tokens * k * n * repeats
        best = max(best, flops / (time.perf_counter() - t0))
        best_cpu = max(best_cpu, flops / (time.process_time() - c0))
    return best, best_cpu


def _sync(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def naive(model, tokenizer, texts, device, batch_size: int = 32, width: int = 128):
    """What common evaluation scripts do: tokenize a batch, pad it to 128, per-layer masked means."""
    import torch

    n_layers = model.config.num_hidden_layers + 1
    sums = [torch.zeros(model.config.hidden_size, dtype=torch.float64) for _ in range(n_layers)]
    pooled = []
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(
            texts[start : start + batch_size],
            padding="max_length",
            truncation=True,
            max_length=width,
            return_tensors="pt",
        )
        x, m = enc["input_ids"].to(device), enc["attention_mask"].to(device)
        with torch.no_grad():
            states = model(input_ids=x, attention_mask=m, output_hidden_states=True).hidden_states
        mf = m.unsqueeze(-1).to(states[0].dtype)
        pooled.append([((s * mf).sum(1) / mf.sum(1)).float().cpu() for s in states])
        for l, s in enumerate(states):
            sums[l] += (s * mf).sum((0, 1)).double().cpu()
    return pooled, sums


def run_mode(args) -> dict:
    import torch
    from transformers import AutoTokenizer

    from langrep.batching import tokenize_ids
    from langrep.extraction.hidden_states import extract, iter_batches
    from langrep.models import resolve_device, resolve_dtype

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    texts = sentences(Path(args.mirror), args.sentences)
    if args.mode == "naive" and args.naive_sentences:
        texts = texts[: args.naive_sentences]
    token_ids = tokenize_ids(tokenizer, texts, 128)  # untimed: the token count, and the forward mode's input
    n_tokens = int(token_ids.lengths.sum())
    result = {
        "mode": args.mode,
        "device": device,
        "dtype": str(dtype).replace("torch.", ""),
        "sentences": len(texts),
        "tokens": n_tokens,
        "avg_len": n_tokens / len(texts),
    }
    if args.mode == "gemm":
        gpu = device.startswith("cuda")
        result["gemm_flops"], result["gemm_flops_per_cpu_s"] = gemm_flops(
            device, dtype, tokens=16384 if gpu else 4096, repeats=50 if gpu else 5
        )
    elif args.mode == "tokenize":
        t0, c0 = time.perf_counter(), time.process_time()
        tokenize_ids(tokenizer, texts, 128)
        result["seconds"], result["cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
    else:
        model = build_model(len(tokenizer), device, dtype)
        pooled = args.pooled_layers[0]
        layers = None if pooled == "all" else [int(v) for v in pooled.split(",")]
        result["pooled_layers"] = pooled
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        warm_up = texts[:256]
        for batch, ids in ((warm_up, tokenize_ids(tokenizer, warm_up, 128)), (texts, token_ids)):
            _sync(device)
            t0, c0 = time.perf_counter(), time.process_time()
            if args.mode == "langrep":
                extract(model, tokenizer, batch, pooled_layers=layers, token_budget=args.token_budget, max_length=128)
            elif args.mode == "forward":
                for _ in iter_batches(model, tokenizer, ids, token_budget=args.token_budget):
                    pass
            else:
                naive(model, tokenizer, batch, device)
            _sync(device)
        result["seconds"], result["cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
        if device.startswith("cuda"):
            result["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    if "seconds" in result:
        result["tokens_per_s"] = n_tokens / result["seconds"]
        result["tokens_per_cpu_s"] = n_tokens / result["cpu_seconds"]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mirror", default=os.environ.get("LANGREP_DATA_MIRROR") or str(ROOT.parent / "shared" / "data"))
    p.add_argument(
        "--tokenizer",
        default=str(ROOT / "data" / "models" / "e5-small"),
        help="a folder with a (fast) tokenizer; default: the materialized e5 model (XLM-R vocabulary)",
    )
    p.add_argument(
        "--sentences",
        type=int,
        default=None,
        help="default: 2,048 on a CPU (the naive loop takes minutes there), 100,000 on a GPU",
    )
    p.add_argument("--naive-sentences", type=int, default=None, help="the naive loop on the first N only")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    p.add_argument("--token-budget", type=int, default=None, help="default: 8192 on a CPU, 32768 on a GPU")
    p.add_argument(
        "--pooled-layers",
        nargs="+",
        default=["all"],
        help='"all" or a comma-separated list, e.g. 8; several: one langrep run (and row) each',
    )
    p.add_argument("--threads", type=int, default=0)
    p.add_argument(
        "--peak-tflops",
        type=float,
        default=None,
        help="the accelerator's dense peak for the dtype (e.g. 989 for H100 SXM bf16)",
    )
    p.add_argument("--mode", choices=["langrep", "forward", "naive", "gemm", "tokenize"], help=argparse.SUPPRESS)
    args = p.parse_args()
    from langrep.models import resolve_device

    gpu = resolve_device(args.device).startswith("cuda")
    args.sentences = args.sentences or (100_000 if gpu else 2048)
    args.token_budget = args.token_budget or (32768 if gpu else 8192)
    if args.mode:
        print(json.dumps(run_mode(args)))
        return
    passthrough = [
        *("--mirror", args.mirror, "--tokenizer", args.tokenizer, "--sentences", str(args.sentences)),
        *("--device", args.device, "--dtype", args.dtype, "--token-budget", str(args.token_budget)),
        *("--threads", str(args.threads)),
    ]
    if args.naive_sentences:
        passthrough += ["--naive-sentences", str(args.naive_sentences)]

    def run(mode: str, pooled: str = "all") -> dict:
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--pooled-layers", pooled, *passthrough],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        # each mode as it ends: a run cut short still shows what it measured
        print(f"[{mode} {pooled}] " + json.dumps(result), file=sys.stderr, flush=True)
        return result

    gemm, tok, base, forward = run("gemm"), run("tokenize"), run("naive"), run("forward")
    ours = [run("langrep", pooled) for pooled in args.pooled_layers]
    fpt = flops_per_token(ours[0]["avg_len"])
    bound = gemm["gemm_flops"] / fpt
    want_naive, want_bound = TARGETS["cuda" if gpu else "cpu"]
    first = ours[0]
    print(
        f"device={first['device']} dtype={first['dtype']} sentences={first['sentences']} tokens={first['tokens']} "
        f"avg_len={first['avg_len']:.1f} token_budget={args.token_budget}"
    )
    rows = [(f"langrep extract, from text, pooled layers {r['pooled_layers']}", r) for r in ours]
    rows += [("forward passes alone, tokenized", forward), ("naive loop 32x128, from text", base)]
    for name, r in rows:
        print(
            f"{name:45s}: {r['tokens_per_s']:10.0f} tokens/s ({r['seconds']:.2f} s, {r['sentences']} sentences)  "
            f"peak RSS {r['peak_rss_mb']:.0f} MB"
            + (f"  peak GPU {r['peak_gpu_mb']:.0f} MB" if "peak_gpu_mb" in r else "")
        )
    print(f"{'tokenization alone (one call)':45s}: {tok['tokens_per_s']:10.0f} tokens/s")
    print(
        f"GEMM {gemm['gemm_flops'] / 1e9:.1f} GFLOP/s measured ({ours[0]['dtype']}); model {fpt / 1e6:.0f} MFLOP/token "
        f"-> matmul bound {bound:.0f} tokens/s"
    )
    for r in ours:
        x_naive = r["tokens_per_s"] / base["tokens_per_s"]
        print(
            f"pooled layers {r['pooled_layers']}: {x_naive:.2f}x the naive loop (target >= {want_naive:.0f}x), "
            f"{r['tokens_per_s'] / bound:.1%} of the matmul bound (target >= {want_bound:.0%})"
        )
        if not gpu:
            # On a shared machine wall time also counts the other jobs; CPU time counts only this
            # process's work (and its threads' spinning while the OS runs someone else).
            cpu_bound = gemm["gemm_flops_per_cpu_s"] / fpt
            print(
                f"  per CPU-second: langrep {r['tokens_per_cpu_s']:.0f}, naive {base['tokens_per_cpu_s']:.0f}, "
                f"bound {cpu_bound:.0f} tokens/CPU-s -> {r['tokens_per_cpu_s'] / base['tokens_per_cpu_s']:.2f}x "
                f"naive, {r['tokens_per_cpu_s'] / cpu_bound:.1%} of the bound"
            )
        if args.peak_tflops:
            achieved = r["tokens_per_s"] * fpt
            print(f"  {achieved / (args.peak_tflops * 1e12):.1%} of the {r['dtype']} peak ({args.peak_tflops} TFLOP/s)")


if __name__ == "__main__":
    main()
