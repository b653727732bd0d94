"""Per-token log-probs at a Qwen2-size vocabulary: time and peak memory, ours beside naive and TRL's.

Rows, each measured in a fresh process (so one row's allocations cannot hide another's peak):

* ``logits``: from a ``(B, T, V)`` float32 logits tensor to ``(B, T)`` log-probs of the sampled ids —
  naive ``log_softmax`` + ``gather``, TRL's ``selective_log_softmax`` (when TRL is installed), and
  :func:`actionspaces.grpo.token_logprobs`;
* ``hidden``: from final hidden states and the LM head — naive ``lm_head`` + ``log_softmax`` + ``gather``,
  ``lm_head`` + TRL's ``selective_log_softmax``, and :func:`actionspaces.grpo.token_logprobs_from_hidden`
  (logits never whole).

Each is run forward only (``no_grad``, as for old/reference log-probs) and forward + backward (as in the
loss). Peak memory is the rise of the process's resident-set high-water mark (``VmHWM``, reset through
``/proc/self/clear_refs``) above what the inputs already occupy; time is the best of ``--repeats`` runs.
Ratios are against the naive row of the same group.

    python benchmarks/bench_grpo.py [--batch 8] [--seq 512] [--vocab 151936] [--hidden 896] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

METHODS = ("naive", "trl", "ours")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def child(spec: dict[str, Any]) -> dict[str, float]:
    """Run one measurement in this (fresh) process and return its time and peak memory."""
    import torch

    from actionspaces.grpo import token_logprobs, token_logprobs_from_hidden

    torch.manual_seed(0)
    b, t, v, h = spec["batch"], spec["seq"], spec["vocab"], spec["hidden"]
    backward = spec["backward"]
    ids = torch.randint(0, v, (b, t))
    if spec["source"] == "logits":
        logits = torch.randn(b, t, v).requires_grad_(backward)
        inputs: tuple[torch.Tensor, ...] = (logits,)
    else:
        hidden = torch.randn(b, t, h).requires_grad_(backward)
        weight = (torch.randn(v, h) / h**0.5).requires_grad_(backward)
        inputs = (hidden, weight)

    if spec["method"] == "trl":
        from trl.trainer.utils import selective_log_softmax

    def logps() -> torch.Tensor:
        logits_ = inputs[0] if spec["source"] == "logits" else None
        if spec["method"] == "ours":
            if logits_ is not None:
                return token_logprobs(logits_, ids)
            return token_logprobs_from_hidden(inputs[0], inputs[1], ids)
        if logits_ is None:
            logits_ = inputs[0] @ inputs[1].T
        if spec["method"] == "trl":
            return selective_log_softmax(logits_, ids)
        return torch.log_softmax(logits_, dim=-1).gather(-1, ids[..., None]).squeeze(-1)

    def run() -> None:
        if backward:
            for x in inputs:
                x.grad = None
            logps().sum().backward()
        else:
            with torch.no_grad():
                logps()

    run()  # warm-up, outside the memory window
    for x in inputs:
        x.grad = None
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark to the current RSS
    base = _status_kib("VmRSS")
    best = float("inf")
    for _ in range(spec["repeats"]):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
        for x in inputs:
            x.grad = None
    peak = _status_kib("VmHWM") - base
    return {"seconds": best, "peak_mib": peak / 1024}


def measure(spec: dict[str, Any]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"measurement {spec} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--vocab", type=int, default=151_936)
    ap.add_argument("--hidden", type=int, default=896, help="hidden size for the LM-head rows (Qwen2-0.5B: 896)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--inputs", default="logits,hidden", help="which row groups to run (default: both)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    try:
        import trl  # noqa: F401

        methods = METHODS
    except ImportError:
        methods = ("naive", "ours")
        print("TRL is not installed: its rows are skipped")
    size = {"batch": args.batch, "seq": args.seq, "vocab": args.vocab, "hidden": args.hidden, "repeats": args.repeats}
    logits_mib = args.batch * args.seq * args.vocab * 4 / 2**20
    print(
        f"B×T = {args.batch}×{args.seq}, V = {args.vocab:,}, H = {args.hidden}; "
        f"one float32 logits tensor = {logits_mib:,.0f} MiB\n"
    )
    print("| input | pass | method | time (s) | peak extra memory (MiB) | time vs naive | memory: naive ÷ this |")
    print("|---|---|---|---:|---:|---:|---:|")
    for source in args.inputs.split(","):
        for backward in (False, True):
            results = {m: measure({**size, "source": source, "backward": backward, "method": m}) for m in methods}
            naive = results["naive"]
            for method, r in results.items():
                # below 1 MiB the process never grew: its chunks reused memory freed after the warm-up
                peak = f"{r['peak_mib']:,.0f}" if r["peak_mib"] >= 1 else "< 1"
                saving = naive["peak_mib"] / r["peak_mib"] if r["peak_mib"] >= 1 else None
                print(
                    f"| {source} | {'fwd+bwd' if backward else 'fwd'} | {method} | {r['seconds']:.3f} | {peak} | "
                    f"{r['seconds'] / naive['seconds']:.2f}× | "
                    f"{f'{saving:.1f}×' if saving is not None else '> ' + format(naive['peak_mib'], ',.0f') + '×'} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
