"""CraftWorld's tasks at the benchmark's scale: every block, mob and recipe of Minecraft 1.16.5 that can be set up.

Ids are OpenHA's (``mine_block:oak_log``, ``kill_entity:cow``, ``craft_item:stick``). The candidates are
every block, every mob and every item with a crafting recipe in the world data (``minecraft-data``'s
1.16.5); each is a task unless a rule leaves it out, and :data:`EXCLUDED` says why for every one left
out. The 30 training tasks (10 per category) are CrossHA's split size and have not changed since the
registry had 76 tasks; every other task is held out.

Setup follows OpenHA's rules: mining and hunting tasks start with a suitable tool in the selected hotbar
slot and targets (plus distractors) around the player; crafting tasks start with exactly the ingredients
of the item's first recipe in random inventory slots and the right screen open (the inventory's 2×2 grid
when the recipe fits in it, otherwise a crafting table).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .catalog import BLOCKS, MOBS, stack_size, world_data
from .recipes import RecipeBook

__all__ = ["CATEGORIES", "EXCLUDED", "TASKS", "Task", "get_task", "task_subset", "tasks"]

CATEGORIES = ("mine_block", "kill_entity", "craft_item")

#: The 30 training tasks, 10 per category.
TRAIN: dict[str, tuple[str, ...]] = {
    "mine_block": ("oak_log", "birch_log", "spruce_log", "dirt", "sand", "gravel", "stone", "coal_ore", "sugar_cane",
                   "pumpkin"),
    "kill_entity": ("cow", "sheep", "pig", "chicken", "zombie", "spider", "skeleton", "rabbit", "creeper", "slime"),
    "craft_item": ("oak_planks", "stick", "crafting_table", "wooden_pickaxe", "wooden_sword", "chest", "torch",
                   "ladder", "furnace", "stone_pickaxe"),
}  # fmt: skip

_NOT_AIMABLE = {"air": "empty space", "cave_air": "empty space", "void_air": "empty space",
                "fire": "put out, not mined", "soul_fire": "put out, not mined",
                "bubble_column": "exists only as water above soul sand or magma",
                "frosted_ice": "made only by the Frost Walker enchantment",
                "piston_head": "the moving part of an extended piston, not placed on its own"}  # fmt: skip
_BOSSES = {"ender_dragon", "wither"}


def _mine_exclusion(block: str) -> str | None:
    info = BLOCKS[block]
    if not info.diggable:
        return "the game cannot break it (not diggable in the data)"
    if block in _NOT_AIMABLE:
        return _NOT_AIMABLE[block]
    if "wall_" in block:
        standing = block.replace("_wall_", "_") if block != "wall_torch" else "torch"
        return f"the form a block takes against a wall; its standing form ({standing}) is the task"
    if block.startswith("potted_"):
        return f"made only by putting {block.removeprefix('potted_')} in a flower pot (flower_pot is a task)"
    return None


def _kill_exclusion(mob: str) -> str | None:
    if mob == "evoker_fangs":
        return "an evoker's attack, not a mob"
    if mob in _BOSSES:
        return "a boss: it flies or builds up from blocks, which CraftWorld's flat-ground fight does not model"
    return None


def _craft_exclusion(item: str, book: RecipeBook) -> str | None:
    needed = Counter(book.resolve(spec) for spec in book.recipe_for(item).filled_cells)
    unknown = sorted(set(needed) - set(world_data()["items"]))
    if unknown:
        return f"its ingredients {unknown} are not items"
    slots = sum(-(-n // stack_size(i)) for i, n in needed.items())
    return None if slots <= 36 else f"its ingredients need {slots} inventory slots"


@dataclass(frozen=True)
class Task:
    """One task: ``category:target`` and its split.

    Examples:
        >>> task = get_task("craft_item:stick")
        >>> task.category, task.target, task.split, task.screen
        ('craft_item', 'stick', 'train', 'inventory')
    """

    category: Literal["mine_block", "kill_entity", "craft_item"]
    target: str
    split: Literal["train", "eval"]

    @property
    def id(self) -> str:
        """``"category:target"``."""
        return f"{self.category}:{self.target}"

    @property
    def tool(self) -> str | None:
        """The tool a mining or hunting task starts with (selected in the hotbar)."""
        if self.category == "kill_entity":
            return "stone_sword"
        if self.category != "mine_block":
            return None
        return BLOCKS[self.target].tool

    @property
    def screen(self) -> Literal["inventory", "crafting_table"] | None:
        """The screen a crafting task starts in."""
        if self.category != "craft_item":
            return None
        rows, cols = RecipeBook.default().recipe_for(self.target).size
        return "inventory" if rows <= 2 and cols <= 2 else "crafting_table"

    def ingredients(self, book: RecipeBook | None = None) -> Counter[str]:
        """The items a crafting task starts with: exactly one batch of its first recipe's ingredients."""
        book = book or RecipeBook.default()
        return Counter(book.resolve(spec) for spec in book.recipe_for(self.target).filled_cells)


def _build() -> tuple[tuple[Task, ...], dict[str, str]]:
    book = RecipeBook.default()
    candidates = {"mine_block": sorted(BLOCKS), "kill_entity": sorted(MOBS), "craft_item": sorted(book.results)}
    rules: dict[str, Callable[[str], str | None]] = {
        "mine_block": _mine_exclusion,
        "kill_entity": _kill_exclusion,
        "craft_item": lambda item: _craft_exclusion(item, book),
    }
    out: list[Task] = []
    excluded: dict[str, str] = {}
    for category in CATEGORIES:
        train = TRAIN[category]
        out += [Task(category, t, "train") for t in train]  # type: ignore[arg-type]
        for target in candidates[category]:
            if target in train:
                continue
            reason = rules[category](target)
            if reason is None:
                out.append(Task(category, target, "eval"))  # type: ignore[arg-type]
            else:
                excluded[f"{category}:{target}"] = reason
    return tuple(out), excluded


#: Every registered task (the training tasks of each category first, then its held-out ones by name), and
#: every candidate left out, with the reason.
TASKS, EXCLUDED = _build()
_BY_ID = {t.id: t for t in TASKS}


def tasks(split: Literal["train", "eval", "all"] = "all", category: str | None = None) -> list[Task]:
    """Registered tasks of a split and (optionally) a category.

    Examples:
        >>> len(tasks("train")), len(tasks("train", "craft_item")), len(tasks()) >= 800
        (30, 10, True)
    """
    if split not in ("train", "eval", "all"):
        raise ValueError(f"split must be 'train', 'eval' or 'all', got {split!r}")
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; use one of {CATEGORIES}")
    return [t for t in TASKS if split in ("all", t.split) and (category is None or t.category == category)]


def task_subset(per_category: int | None, split: Literal["train", "eval", "all"] = "eval", seed: int = 0) -> list[Task]:
    """A seeded, stratified sample of a split: ``per_category`` tasks of each category (all where fewer).

    ``None`` takes every task of the split. The sample depends only on ``seed`` and the registry, so a
    preset evaluates on the same tasks in every run; tasks come in registry order.

    Raises:
        ValueError: ``per_category`` is below 1.

    Examples:
        >>> subset = task_subset(5)
        >>> len(subset), sorted({t.category for t in subset}) == sorted(CATEGORIES), subset == task_subset(5)
        (15, True, True)
    """
    pool = tasks(split)
    if per_category is None:
        return pool
    if isinstance(per_category, bool) or not isinstance(per_category, int) or per_category < 1:
        raise ValueError(f"per_category must be a positive int or None, got {per_category!r}")
    rng = np.random.default_rng(seed)
    chosen: set[str] = set()
    for category in CATEGORIES:
        ids = [t.id for t in pool if t.category == category]
        chosen.update(ids if len(ids) <= per_category else rng.choice(ids, per_category, replace=False).tolist())
    return [t for t in pool if t.id in chosen]


def get_task(task_id: str | Task) -> Task:
    """The registered task with this id (``"mine_block:oak_log"``); a ``Task`` is returned as it is.

    Raises:
        ValueError: no task has this id.
        TypeError: ``task_id`` is neither a string nor a ``Task``.

    Examples:
        >>> get_task("kill_entity:cow").category
        'kill_entity'
    """
    if isinstance(task_id, Task):
        return task_id
    if not isinstance(task_id, str):
        raise TypeError(f"tasks are named by Tasks or task ids, got {type(task_id).__name__}: {task_id!r}")
    try:
        return _BY_ID[task_id]
    except KeyError:
        raise ValueError(
            f"unknown task {task_id!r}; see actionspaces.envs.craftworld.tasks() for the registry"
        ) from None
