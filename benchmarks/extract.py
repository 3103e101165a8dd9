"""Extraction throughput: langrep's extraction against a naive loop and against the matmul bound.

On the same Tatoeba sentences (from the mirror) and an mBERT-sized random model (12 layers,
hidden 768, vocabulary 119,547, built from its config), it measures

* tokens/s of ``langrep.extract.extract`` (length-sorted batches under a token budget, every layer
  from one forward pass, pooled vectors and float64 sums) and of a naive loop as common evaluation
  scripts do it (fixed batches of 32 padded to 128, ``output_hidden_states``, masked means);
* the machine's GEMM FLOP/s (measured in the same run on the model's own matrix shapes) divided by
  the model's FLOPs per token: the matmul bound on tokens/s.

"Tokens" are real (non-padding) tokens, special tokens included. Each mode runs in its own process
so that peak memory (max RSS) is its own. Prints both ratios and peak memory.

    python benchmarks/extract.py                 # CPU, fp32 (~10 min on 2 cores)
    python benchmarks/extract.py --device cuda --dtype bfloat16 --peak-tflops 989   # H100 SXM bf16 dense
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

MBERT = dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072,
             vocab_size=119547, max_position_embeddings=512)


def sentences(mirror: Path, n: int) -> list[str]:
    lines = []
    for pair in ("deu", "fra", "rus", "cmn", "ara", "hin"):
        for side in (pair, "eng"):
            path = mirror / "tatoeba" / f"tatoeba.{pair}-eng.{side}"
            lines += path.read_text(encoding="utf-8").splitlines()
    return [s for s in lines if s.strip()][:n]


def token_ids(texts: list[str], vocab: int, max_length: int) -> list[list[int]]:
    """Subword ids with realistic lengths: the XLM-R tokenizer of the bundled e5 model when it is
    materialised, else a whitespace/character split; ids folded into the mBERT vocabulary."""
    tok_dir = ROOT / "data" / "models" / "e5-small"
    if (tok_dir / "tokenizer.json").exists():
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tok_dir)
        ids = tok(texts, truncation=True, max_length=max_length)["input_ids"]
        return [[i % vocab for i in x] for x in ids]
    out = []
    for t in texts:
        pieces = [w[i:i + 4] for w in t.split() for i in range(0, len(w), 4)] or [t]
        out.append([101] + [hash(p) % (vocab - 1000) + 1000 for p in pieces][: max_length - 2] + [102])
    return out


class IdTokenizer:
    """The minimal tokenizer interface extraction needs, over pre-computed ids."""

    pad_token_id = 0
    all_special_ids = [0, 101, 102]

    def __init__(self, ids):
        self.ids = {i: x for i, x in enumerate(ids)}

    def __call__(self, keys, **_):
        return {"input_ids": [self.ids[int(k)] for k in keys]}


def build_model(device, dtype):
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    return BertModel(BertConfig(**MBERT)).to(device=device, dtype=dtype).eval()


def flops_per_token(avg_len: float) -> float:
    h, f, l = MBERT["hidden_size"], MBERT["intermediate_size"], MBERT["num_hidden_layers"]
    dense = l * (4 * h * h + 2 * h * f)  # QKV + output projection + feed-forward, per token
    attention = l * 2 * avg_len * h  # QK^T and AV, per token, for a sequence of avg_len
    return 2.0 * (dense + attention)


def gemm_flops(device, dtype, tokens: int = 4096, repeats: int = 5) -> float:
    """Best FLOP/s over the model's own GEMM shapes (tokens x 768 x 3072 and tokens x 768 x 768)."""
    import torch

    h, f = MBERT["hidden_size"], MBERT["intermediate_size"]
    x = torch.randn(tokens, h, device=device, dtype=dtype)
    shapes = [(h, f), (h, h), (f, h)]
    best = 0.0
    for k, n in shapes:
        a = torch.randn(tokens, k, device=device, dtype=dtype)
        b = torch.randn(k, n, device=device, dtype=dtype)
        for _ in range(2):
            a @ b
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(repeats):
            a @ b
        _sync(device)
        best = max(best, 2 * tokens * k * n * repeats / (time.perf_counter() - t0))
    del x
    return best


def _sync(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def run_mode(args) -> dict:
    import torch

    from langrep.extract import extract

    torch.set_num_threads(args.threads or os.cpu_count())
    dtype = getattr(torch, args.dtype)
    texts = sentences(Path(args.mirror), args.sentences)
    ids = token_ids(texts, MBERT["vocab_size"], 128)
    n_tokens = sum(len(x) for x in ids)
    result = {"mode": args.mode, "sentences": len(ids), "tokens": n_tokens,
              "avg_len": n_tokens / len(ids)}
    if args.mode == "gemm":
        result["gemm_flops"] = gemm_flops(args.device, dtype)
    else:
        model = build_model(args.device, dtype)
        if args.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        warm = ids[:32]
        t0 = None
        for phase in ("warm-up", "timed"):
            batch_ids = warm if phase == "warm-up" else ids
            _sync(args.device)
            t0 = time.perf_counter()
            if args.mode == "langrep":
                tok = IdTokenizer(batch_ids)
                extract(model, tok, [str(i) for i in range(len(batch_ids))],
                        token_budget=args.token_budget, max_length=128)
            else:
                naive(model, batch_ids, args.device)
            _sync(args.device)
        result["seconds"] = time.perf_counter() - t0
        result["tokens_per_s"] = n_tokens / result["seconds"]
        if args.device.startswith("cuda"):
            result["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def naive(model, ids, device, batch_size: int = 32, width: int = 128):
    """What common evaluation scripts do: fixed batches padded to 128, per-layer masked means."""
    import torch

    n_layers = model.config.num_hidden_layers + 1
    sums = [torch.zeros(model.config.hidden_size, dtype=torch.float64) for _ in range(n_layers)]
    pooled = []
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        x = torch.zeros((len(batch), width), dtype=torch.long)
        m = torch.zeros((len(batch), width), dtype=torch.long)
        for r, seq in enumerate(batch):
            x[r, :len(seq)] = torch.tensor(seq)
            m[r, :len(seq)] = 1
        x, m = x.to(device), m.to(device)
        with torch.no_grad():
            states = model(input_ids=x, attention_mask=m, output_hidden_states=True).hidden_states
        mf = m.unsqueeze(-1).to(states[0].dtype)
        pooled.append([(s * mf).sum(1) / mf.sum(1) for s in states])
        for l, s in enumerate(states):
            sums[l] += (s * mf).sum((0, 1)).double().cpu()
    return pooled, sums


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mirror", default=os.environ.get("LANGREP_DATA_MIRROR") or str(ROOT.parent / "shared" / "data"))
    # 2,048 sentences (~30k tokens): enough batches that the first-batch kernel set-up and the short
    # last batch do not dominate; 256 reads ~10 points low. The naive loop takes ~8 min on 2 cores.
    p.add_argument("--sentences", type=int, default=2048)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--token-budget", type=int, default=8192)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="the accelerator's dense peak for --dtype (e.g. 989 for H100 SXM bf16)")
    p.add_argument("--mode", choices=["langrep", "naive", "gemm"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args)))
        return
    results = {}
    for mode in ("gemm", "langrep", "naive"):
        cmd = [sys.executable, __file__, "--mode", mode] + [
            a for a in sys.argv[1:]]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results[mode] = json.loads(out.strip().splitlines()[-1])
    ours, base, gemm = results["langrep"], results["naive"], results["gemm"]
    bound = gemm["gemm_flops"] / flops_per_token(ours["avg_len"])
    print(f"device={args.device} dtype={args.dtype} sentences={ours['sentences']} tokens={ours['tokens']} "
          f"avg_len={ours['avg_len']:.1f}")
    print(f"langrep extraction : {ours['tokens_per_s']:10.0f} tokens/s  peak RSS {ours['peak_rss_mb']:.0f} MB"
          + (f"  peak GPU {ours['peak_gpu_mb']:.0f} MB" if "peak_gpu_mb" in ours else ""))
    print(f"naive loop (32x128): {base['tokens_per_s']:10.0f} tokens/s  peak RSS {base['peak_rss_mb']:.0f} MB"
          + (f"  peak GPU {base['peak_gpu_mb']:.0f} MB" if "peak_gpu_mb" in base else ""))
    print(f"GEMM {gemm['gemm_flops'] / 1e9:.1f} GFLOP/s measured; model {flops_per_token(ours['avg_len']) / 1e6:.0f} "
          f"MFLOP/token -> matmul bound {bound:.0f} tokens/s")
    print(f"ratio vs naive loop : {ours['tokens_per_s'] / base['tokens_per_s']:.2f}x  (target >= 3x)")
    print(f"ratio vs matmul bound: {ours['tokens_per_s'] / bound:.1%}  (target >= 70% in fp32 on CPU)")
    if args.peak_tflops:
        achieved = ours["tokens_per_s"] * flops_per_token(ours["avg_len"])
        print(f"fraction of the {args.dtype} peak ({args.peak_tflops} TFLOP/s): {achieved / (args.peak_tflops * 1e12):.1%}")


if __name__ == "__main__":
    main()
