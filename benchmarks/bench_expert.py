"""Scripted-expert success over many seeds for every task of the registry, with the failures listed.

python benchmarks/bench_expert.py [--seeds 100]
"""

from __future__ import annotations

import argparse
import time

from actionspaces.envs.craftworld import CraftWorld, tasks
from actionspaces.envs.craftworld.expert import solve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=100)
    args = ap.parse_args()
    t0 = time.perf_counter()
    failures: dict[str, list[int]] = {}
    episodes = 0
    for task in tasks():
        env = CraftWorld(task)
        failed = [seed for seed in range(args.seeds) if not solve(env, seed)]
        episodes += args.seeds
        if failed:
            failures[task.id] = failed
    solved = episodes - sum(len(f) for f in failures.values())
    print(
        f"{solved:,} of {episodes:,} episodes solved ({len(tasks())} tasks × {args.seeds} seeds) "
        f"in {time.perf_counter() - t0:.0f} s"
    )
    worst = min((1 - len(f) / args.seeds for f in failures.values()), default=1.0)
    print(f"lowest per-task success: {worst:.0%}")
    for task_id, seeds in failures.items():
        print(f"  {task_id}: failed seeds {seeds}")


if __name__ == "__main__":
    main()
