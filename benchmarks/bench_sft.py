"""The reference trainer's SFT step in length-sorted passes against one pass over the batch, in one run.

The quick preset's tiny Qwen2 and its D_mix (the expert's calls on the 30 training tasks), built as
``examples/crossha_train.py`` builds them; ``sft_step`` with ``rows_per_pass=None`` (the whole batch of
``--batch`` rows in one forward and backward pass, the baseline) and with each ``--rows-per-pass`` value,
taking turns in every repeat so a slower moment of the machine hits every arm. Prints ms per optimizer step
(best and median over repeats) and each arm's speed-up over one pass.

    python benchmarks/bench_sft.py [--batch 32] [--rows-per-pass 4 8 16] [--steps 10] [--repeats 4]

Run it alone: two torch jobs on two cores slow each other many times over.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32, help="rows per optimizer step (the quick preset's sft_batch)")
    parser.add_argument("--rows-per-pass", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--steps", type=int, default=10, help="optimizer steps per timed call")
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    from actionspaces.envs.craftworld import knowledge_corpus
    from actionspaces.envs.craftworld.datasets import expert_contexts, fit_codebook, record_episodes, tokenizer_corpus
    from actionspaces.training import set_torch_threads
    from actionspaces.training.recipe import preset_config, tiny_policy
    from actionspaces.training.updates import Demonstration, sft_step

    threads = set_torch_threads(None)
    cfg = preset_config("quick", [])
    episodes = record_episodes(range(cfg.expert_seeds))
    codebook = fit_codebook(episodes, cfg.codebook_size)
    d_mix = expert_contexts(episodes, codebook, "mixed")
    corpus = tokenizer_corpus(d_mix, knowledge_corpus(views=cfg.knowledge_views, seed=0))
    policy = tiny_policy(cfg, corpus, extra_tokens=codebook.tokens)
    demos = [Demonstration(c.prompt, c.labels[space], c.frame) for c, space in d_mix]
    optimizer = torch.optim.AdamW(policy.model.parameters(), lr=cfg.sft_lr)
    arms = {"one pass (baseline)": None, **{f"passes of {r}": r for r in args.rows_per_pass}}
    steps = {name: sft_step(demos, steps=args.steps, batch=args.batch, rows_per_pass=r) for name, r in arms.items()}
    for step in steps.values():  # tokenize once, warm up
        step(policy, optimizer, 0, None)
    seconds: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(args.repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step(policy, optimizer, 0, None)
            seconds[name].append((time.perf_counter() - start) / args.steps)
    print(f"tiny Qwen2 of the quick preset, D_mix ({len(demos)} calls), batch {args.batch}, {threads} threads, "
          f"{args.steps} steps x {args.repeats} repeats\n")  # fmt: skip
    print("| SFT step | best ms | median ms | speed-up over one pass (best) |\n|---|---:|---:|---:|")
    base = min(seconds["one pass (baseline)"])
    for name, values in seconds.items():
        print(f"| {name} | {min(values) * 1000:.0f} | {np.median(values) * 1000:.0f} | {base / min(values):.2f}x |")


if __name__ == "__main__":
    main()
