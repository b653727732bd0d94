"""CraftWorld throughput on one core: ticks/s with text observations, rendered frames/s, model calls/s.

* **ticks**: the expert's recorded actions on every training task are replayed (same seeds, so the
  same trajectories) and only ``env.step`` is timed, text observation included;
* **frames**: ``env.render()`` at 640×360, in the world and in a crafting screen;
* **calls**: ``TextActionEnv`` driven by a scripted text policy that reads the text observation and
  writes a grounding action for the nearest target (or a raw action when none is in view), timed end
  to end (parse, controller, ticks).

Targets (craftworld.md): at least 10,000 ticks/s and 500 frames/s.

    python benchmarks/bench_env.py [--seeds 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import re
import time

from actionspaces.canonical import CanonicalAction
from actionspaces.envs import CraftWorld, TextActionEnv
from actionspaces.envs.craftworld import craftworld_controllers, tasks
from actionspaces.envs.craftworld.expert import Expert

_OBJECT = re.compile(r"^- (\w+) \((\d+),(\d+)\)", re.MULTILINE)


def record(seeds: int) -> list[tuple[str, int, list[CanonicalAction]]]:
    episodes = []
    for task in tasks("train"):
        for seed in range(seeds):
            env = CraftWorld(task)
            env.reset(seed=seed)
            episodes.append((task.id, seed, [a for a, *_ in Expert(env).run()]))
    return episodes


def ticks_per_second(episodes: list[tuple[str, int, list[CanonicalAction]]], repeats: int) -> float:
    best = float("inf")
    total = sum(len(actions) for *_, actions in episodes)
    envs = [(CraftWorld(task), seed, actions) for task, seed, actions in episodes]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--frames", type=int, default=500)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    episodes = record(args.seeds)
    tps = ticks_per_second(episodes, args.repeats)
    world_fps = frames_per_second("mine_block:oak_log", args.frames, args.repeats)
    gui_fps = frames_per_second("craft_item:wooden_pickaxe", args.frames, args.repeats)
    cps, ticks_per_call = calls_per_second(args.seeds, args.repeats)
    n_ticks = sum(len(a) for *_, a in episodes)
    print(f"{len(episodes)} expert episodes on the 30 training tasks, {n_ticks:,} ticks; one core\n")
    print("| measure | value | target | vs target |")
    print("|---|---:|---:|---:|")
    print(f"| ticks/s with text observations | {tps:,.0f} | 10,000 | {tps / 10_000:.2f}× |")
    print(f"| rendered 640×360 frames/s (world) | {world_fps:,.0f} | 500 | {world_fps / 500:.2f}× |")
    print(f"| rendered 640×360 frames/s (crafting screen) | {gui_fps:,.0f} | 500 | {gui_fps / 500:.2f}× |")
    print(f"| TextActionEnv model calls/s (scripted grounding policy) | {cps:,.0f} | — | — |")
    print(f"| ticks per call in those episodes | {ticks_per_call:.1f} | — | — |")


if __name__ == "__main__":
    main()
