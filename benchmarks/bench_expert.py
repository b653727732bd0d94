"""Scripted-expert success over several seeds for every task of the registry, per category, failures listed.

python benchmarks/bench_expert.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from actionspaces.envs.craftworld import CATEGORIES, CraftWorld, tasks
from actionspaces.envs.craftworld.expert import solve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    t0 = time.perf_counter()
    failures: dict[str, list[int]] = {}
    for task in tasks():
        env = CraftWorld(task)
        failed = [seed for seed in range(args.seeds) if not solve(env, seed)]
        if failed:
            failures[task.id] = failed
    registry = tasks()
    episodes = len(registry) * args.seeds
    solved = episodes - sum(len(f) for f in failures.values())
    print(f"{solved:,} of {episodes:,} episodes solved ({solved / episodes:.2%}; {len(registry)} tasks × "
          f"{args.seeds} seeds) in {time.perf_counter() - t0:.0f} s\n")  # fmt: skip
    per_task = Counter(t.category for t in registry)
    print("| category | tasks | episodes solved |")
    print("|---|---:|---:|")
    for category in CATEGORIES:
        n = per_task[category] * args.seeds
        lost = sum(len(f) for task_id, f in failures.items() if task_id.startswith(category + ":"))
        print(f"| {category} | {per_task[category]} | {n - lost:,} of {n:,} ({(n - lost) / n:.2%}) |")
    worst = min((1 - len(f) / args.seeds for f in failures.values()), default=1.0)
    print(f"\nlowest per-task success: {worst:.0%}")
    for task_id, seeds in failures.items():
        print(f"  {task_id}: failed seeds {seeds}")


if __name__ == "__main__":
    main()
