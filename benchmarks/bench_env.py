"""CraftWorld throughput on one core: ticks/s with text observations, rendered frames/s, model calls/s.

* **ticks**: the expert's recorded actions on every training task and on a seeded sample of held-out
  tasks are replayed (same seeds, so the same trajectories) and only ``env.step`` is timed, text
  observation included: once given ``CanonicalAction`` objects, once given the MineRL action dicts a
  gymnasium user sends (``action.to_env()``, built before the clock starts);
* **frames**: ``env.render()`` at 640×360, in the world and in a crafting screen;
* **calls**: ``TextActionEnv`` driven by a scripted text policy that reads the text observation and
  writes a grounding action for the nearest target (or a raw action when none is in view), timed end
  to end (parse, controller, ticks).

* **import**: a fresh interpreter imports ``actionspaces.envs.craftworld`` (the catalog, the recipes,
  the registry), best of three, after numpy, pydantic, gymnasium and the core are loaded, and in total.

Targets (craftworld.md): at least 10,000 ticks/s (with dicts too), 500 frames/s, a registry import of at
most 0.5 s.

    python benchmarks/bench_env.py [--seeds 3] [--repeats 3] [--held-out 10]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from typing import Any

from actionspaces.canonical import CanonicalAction
from actionspaces.envs import CraftWorld, TextActionEnv
from actionspaces.envs.craftworld import craftworld_controllers, task_subset, tasks
from actionspaces.envs.craftworld.expert import Expert

_OBJECT = re.compile(r"^- (\w+) \((\d+),(\d+)\)", re.MULTILINE)


def record(seeds: int, held_out: int) -> list[tuple[str, int, list[CanonicalAction]]]:
    episodes = []
    for task in tasks("train") + task_subset(held_out):
        for seed in range(seeds):
            env = CraftWorld(task)
            env.reset(seed=seed)
            episodes.append((task.id, seed, [a for a, *_ in Expert(env).run()]))
    return episodes


def ticks_per_second(
    episodes: list[tuple[str, int, list[CanonicalAction]]], repeats: int, as_dicts: bool = False
) -> float:
    best = float("inf")
    total = sum(len(actions) for *_, actions in episodes)
    envs: list[tuple[CraftWorld, int, list[Any]]] = [
        (CraftWorld(task), seed, [a.to_env() for a in actions] if as_dicts else actions)
        for task, seed, actions in episodes
    ]
    for _ in range(repeats):
        elapsed = 0.0
        for env, seed, actions in envs:
            env.reset(seed=seed)
            t0 = time.perf_counter()
            for action in actions:
                env.step(action)
            elapsed += time.perf_counter() - t0
        best = min(best, elapsed)
    return total / best


def frames_per_second(task: str, n: int, repeats: int) -> float:
    env = CraftWorld(task)
    env.reset(seed=0)
    expert = Expert(env)
    for _ in range(10):  # a view with something in it
        env.step(expert.act()[0])
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            env.frame()
        best = min(best, time.perf_counter() - t0)
    return n / best


def scripted_policy(text: str, target: str) -> str:
    for name, x, y in _OBJECT.findall(text):
        if name == target:
            verb = "Kill" if text.startswith("task: kill") else "Mine"
            return f"Grounding: {verb} <|point_start|>({x},{y})<|point_end|>"
    return "Action: move(60, 0) and press()"  # turn right 9° and look again


def calls_per_second(seeds: int, repeats: int) -> tuple[float, float]:
    best, calls_total, ticks_total = float("inf"), 0, 0
    for _ in range(repeats):
        calls = ticks = 0
        t0 = time.perf_counter()
        for task in tasks("train"):
            if task.category == "craft_item":
                continue  # the scripted policy only handles the world
            env = TextActionEnv(CraftWorld(task), controllers=craftworld_controllers(), max_calls=60)
            for seed in range(seeds):
                obs, _ = env.reset(seed=seed)
                done = False
                while not done:
                    obs, _, terminated, truncated, info = env.step(scripted_policy(obs["text"], task.target))
                    done = terminated or truncated
                calls += info["calls"]
                ticks += info["total_ticks"]
        elapsed = time.perf_counter() - t0
        if elapsed < best:
            best, calls_total, ticks_total = elapsed, calls, ticks
    return calls_total / best, ticks_total / max(calls_total, 1)


_IMPORT = """
import time, numpy, pydantic, gymnasium, actionspaces
t0 = time.perf_counter()
import actionspaces.envs.craftworld
print(time.perf_counter() - t0)
"""


def import_seconds(repeats: int) -> tuple[float, float]:
    """``(registry, total)``: the craftworld package's own import, and a cold import of everything."""
    own = min(float(subprocess.check_output([sys.executable, "-c", _IMPORT], text=True)) for _ in range(repeats))
    total = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.check_call([sys.executable, "-c", "import actionspaces.envs.craftworld"])
        total = min(total, time.perf_counter() - t0)
    return own, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--held-out", type=int, default=10, help="held-out tasks per category replayed too")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    episodes = record(args.seeds, args.held_out)
    tps = ticks_per_second(episodes, args.repeats)
    dict_tps = ticks_per_second(episodes, args.repeats, as_dicts=True)
    world_fps = frames_per_second("mine_block:oak_log", args.frames, args.repeats)
    gui_fps = frames_per_second("craft_item:wooden_pickaxe", args.frames, args.repeats)
    cps, ticks_per_call = calls_per_second(args.seeds, args.repeats)
    own, total = import_seconds(args.repeats)
    n_ticks = sum(len(a) for *_, a in episodes)
    n_tasks = len({task for task, *_ in episodes})
    print(f"{len(episodes)} expert episodes on {n_tasks} tasks (30 training, {n_tasks - 30} held out), "
          f"{n_ticks:,} ticks; one core; registry of {len(tasks())} tasks\n")  # fmt: skip
    print("| measure | value | target | vs target |")
    print("|---|---:|---:|---:|")
    print(f"| ticks/s with text observations, CanonicalAction | {tps:,.0f} | 10,000 | {tps / 10_000:.2f}× |")
    print(f"| ticks/s with text observations, MineRL action dicts | {dict_tps:,.0f} | 10,000 | "
          f"{dict_tps / 10_000:.2f}× |")  # fmt: skip
    print(f"| dicts vs CanonicalAction (the dict check's cost) | {dict_tps / tps:.2f}× | — | — |")
    print(f"| import of actionspaces.envs.craftworld (on top of the core), s | {own:.3f} | 0.5 | "
          f"{own / 0.5:.2f}× |")  # fmt: skip
    print(f"| cold import of actionspaces.envs.craftworld, everything, s | {total:.3f} | — | — |")
    print(f"| rendered 640×360 frames/s (world) | {world_fps:,.0f} | 500 | {world_fps / 500:.2f}× |")
    print(f"| rendered 640×360 frames/s (crafting screen) | {gui_fps:,.0f} | 500 | {gui_fps / 500:.2f}× |")
    print(f"| TextActionEnv model calls/s (scripted grounding policy) | {cps:,.0f} | — | — |")
    print(f"| ticks per call in those episodes | {ticks_per_call:.1f} | — | — |")


if __name__ == "__main__":
    main()
