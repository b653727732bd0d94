"""MTRL rollout throughput of the reference trainer: batched (one generate call for all live envs, KV cache)
against the baseline of one env at a time, in the same run.

Reports env ticks/s, model calls/s and generated tokens/s for both, and their ratio. The policy is a
checkpoint of ``examples/crossha_train.py`` (or any run) when ``--checkpoint`` is given (e.g.
``runs/quick/checkpoints/crossha``), otherwise an untrained tiny Qwen2 of the quick preset's size. With
``--vision`` every call also shows the frame (a checkpoint of a ``--vision`` run, or the tiny Qwen2-VL).

    python benchmarks/bench_train.py [--checkpoint runs/quick/checkpoints/crossha] [--tasks 8] [--group 4]
    python benchmarks/bench_train.py --vision --checkpoint runs/quick-vision/checkpoints/crossha
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import torch


def measure(policy, jobs, cfg, make_env, frame, batched: bool) -> dict[str, float]:
    from actionspaces.training.rollouts import play_policy

    play = partial(play_policy, policy, make_env=make_env, temperature=cfg.temperature,
                   max_new_tokens=cfg.max_new_tokens, batch_size=cfg.gen_batch, frame=frame)  # fmt: skip
    start = time.perf_counter()
    episodes = play(jobs) if batched else [e for job in jobs for e in play([job])]
    elapsed = time.perf_counter() - start
    return {
        "ticks/s": sum(e.ticks for e in episodes) / elapsed,
        "calls/s": sum(e.calls for e in episodes) / elapsed,
        "tokens/s": sum(e.tokens for e in episodes) / elapsed,
        "episodes": len(episodes),
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--tasks", type=int, default=8, help="training tasks per rollout batch")
    parser.add_argument("--group", type=int, default=4, help="rollouts per task (one seed each task)")
    parser.add_argument("--baseline-episodes", type=int, default=4, help="episodes the one-at-a-time baseline plays")
    parser.add_argument("--max-calls", type=int, default=40)
    parser.add_argument("--vision", action="store_true", help="show the frame with every call (a Qwen2-VL policy)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    from actionspaces.controllers import LatentCodebook
    from actionspaces.envs.craftworld import knowledge_corpus, tasks
    from actionspaces.envs.craftworld.datasets import (
        expert_contexts,
        fit_codebook,
        record_episodes,
        tokenizer_corpus,
    )
    from actionspaces.training.pretrained import load_pretrained
    from actionspaces.training.recipe import craftworld_env, observation_frame, preset_config, tiny_policy

    cfg = preset_config("quick", [f"max_calls={args.max_calls}"], vision=args.vision or None)
    if args.checkpoint is not None:
        codebook = LatentCodebook.load(args.checkpoint / "codebook.json")
        policy = load_pretrained(args.checkpoint, extra_tokens=codebook.tokens, vision=args.vision)
    else:
        episodes = record_episodes(range(cfg.expert_seeds))
        codebook = fit_codebook(episodes, cfg.codebook_size)
        data = expert_contexts(episodes, codebook, "mixed")
        corpus = tokenizer_corpus(data, knowledge_corpus(views=cfg.knowledge_views, seed=0))
        policy = tiny_policy(cfg, corpus, extra_tokens=codebook.tokens)
    make_env = craftworld_env(cfg, codebook)

    frame = observation_frame(cfg)
    train_tasks = [t.id for t in tasks("train")]
    jobs = [(train_tasks[(3 * i) % len(train_tasks)], 100 + i) for i in range(args.tasks) for _ in range(args.group)]
    batched = measure(policy, jobs, cfg, make_env, frame, batched=True)
    single = measure(policy, jobs[: args.baseline_episodes], cfg, make_env, frame, batched=False)
    model = (
        f"checkpoint {args.checkpoint}"
        if args.checkpoint
        else f"untrained tiny {'Qwen2-VL' if args.vision else 'Qwen2'}"
    )
    print(
        f"MTRL rollouts, {model}, {'frames + text' if args.vision else 'text'}, max_calls {args.max_calls}, 1 thread\n"
    )
    print("| rollout | episodes | env ticks/s | model calls/s | generated tokens/s |")
    print("|---|---|---|---|---|")
    for label, r in (("one env at a time (baseline)", single), (f"batched, {len(jobs)} envs (ours)", batched)):
        print(f"| {label} | {r['episodes']} | {r['ticks/s']:.0f} | {r['calls/s']:.1f} | {r['tokens/s']:.0f} |")
    print(
        f"| ratio ours / baseline | | {batched['ticks/s'] / single['ticks/s']:.1f}x | "
        f"{batched['calls/s'] / single['calls/s']:.1f}x | {batched['tokens/s'] / single['tokens/s']:.1f}x |"
    )


if __name__ == "__main__":
    main()
