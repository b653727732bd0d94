"""Seeded starting states for each task: targets and distractors around the player, tools, ingredients."""

from __future__ import annotations

import math

import numpy as np

from .catalog import MOBS
from .tasks import Task
from .world import World

__all__ = ["setup_task"]

_LOGS = {"oak_log", "birch_log", "spruce_log", "jungle_log", "acacia_log", "dark_oak_log"}
_DISTRACTOR_BLOCKS = ("dirt", "sand", "gravel", "stone", "pumpkin", "hay_block", "clay", "coal_ore")
_DISTRACTOR_MOBS = ("cow", "sheep", "pig", "chicken")


def _free_cell(
    world: World, rng: np.random.Generator, lo: float, hi: float, taken: set[tuple[int, int]]
) -> tuple[int, int]:
    """A cell at a random distance in ``[lo, hi]`` and bearing, away from everything placed so far."""
    for _ in range(200):
        r, a = rng.uniform(lo, hi), rng.uniform(0, 2 * math.pi)
        x, z = math.floor(0.5 + r * math.cos(a)), math.floor(0.5 + r * math.sin(a))
        if all(abs(x - tx) > 2 or abs(z - tz) > 2 for tx, tz in taken):
            taken.add((x, z))
            return x, z
    raise RuntimeError("no free cell found for the task layout")


def _place_block(world: World, name: str, x: int, z: int) -> None:
    if name in _LOGS:
        world.tree(x, z, name, height=4)
    else:
        world.place((x, 0, z), name)


def setup_task(world: World, task: Task, rng: np.random.Generator) -> str | None:
    """Lay out the world for ``task``; returns the screen to open first (crafting tasks) or ``None``."""
    player = world.player
    player.yaw = float(rng.uniform(-180, 180))
    taken: set[tuple[int, int]] = {(0, 0)}
    if task.category == "craft_item":
        items = sorted(task.ingredients().items())
        slots = rng.choice(36, size=len(items), replace=False)
        for (item, count), slot in zip(items, slots, strict=True):
            left = player.inventory.add(item, count, order=[int(slot)])
            if left:  # more than one stack: the rest goes wherever it fits
                player.inventory.add(item, left)
        return task.screen

    if task.tool is not None:
        player.inventory.add(task.tool, 1, order=[0])
    if task.category == "mine_block":
        for _ in range(2):
            _place_block(world, task.target, *_free_cell(world, rng, 3.5, 8.0, taken))
        distractors = [b for b in _DISTRACTOR_BLOCKS if b != task.target]
        for name in rng.choice(distractors, size=2, replace=False):
            _place_block(world, str(name), *_free_cell(world, rng, 3.5, 10.0, taken))
        if task.target not in _LOGS:
            _place_block(world, "oak_log", *_free_cell(world, rng, 5.0, 12.0, taken))
        world.spawn(str(rng.choice(_DISTRACTOR_MOBS)), *_mob_spot(world, rng, taken))
    else:
        for _ in range(2):
            world.spawn(task.target, *_mob_spot(world, rng, taken))
        others = [m for m in _DISTRACTOR_MOBS if m != task.target]
        world.spawn(str(rng.choice(others)), *_mob_spot(world, rng, taken))
        _place_block(world, "oak_log", *_free_cell(world, rng, 5.0, 12.0, taken))
        _place_block(world, str(rng.choice(_DISTRACTOR_BLOCKS)), *_free_cell(world, rng, 3.5, 10.0, taken))
    assert all(kind in MOBS for kind in (m.kind for m in world.mobs))
    return None


def _mob_spot(world: World, rng: np.random.Generator, taken: set[tuple[int, int]]) -> tuple[float, float]:
    x, z = _free_cell(world, rng, 4.0, 9.0, taken)
    return x + 0.5, z + 0.5
