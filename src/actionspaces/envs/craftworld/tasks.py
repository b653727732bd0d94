"""CraftWorld's tasks: ids as OpenHA's (``mine_block:oak_log``), a 30-task training split and held-out tasks.

Setup follows OpenHA's rules: mining and hunting tasks start with a suitable tool in the selected hotbar
slot and targets (plus distractors) around the player; crafting tasks start with exactly the ingredients
in random inventory slots and the right screen open (the inventory's 2×2 grid when the recipe fits in
it, otherwise a crafting table).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from .catalog import BLOCKS, MOBS
from .recipes import RecipeBook

__all__ = ["CATEGORIES", "TASKS", "Task", "get_task", "tasks"]

CATEGORIES = ("mine_block", "kill_entity", "craft_item")

_MINE_TRAIN = (
    "oak_log",
    "birch_log",
    "spruce_log",
    "dirt",
    "sand",
    "gravel",
    "stone",
    "coal_ore",
    "sugar_cane",
    "pumpkin",
)
_MINE_EVAL = ("dark_oak_log", "acacia_log", "jungle_log", "grass_block", "clay", "iron_ore", "red_sand", "hay_block",
              "melon", "cobblestone", "snow_block", "sandstone", "copper_ore", "dandelion", "poppy")  # fmt: skip
_KILL_TRAIN = ("cow", "sheep", "pig", "chicken", "zombie", "spider", "skeleton", "rabbit", "creeper", "slime")
_KILL_EVAL = (
    "mooshroom",
    "horse",
    "donkey",
    "llama",
    "goat",
    "fox",
    "husk",
    "witch",
    "polar_bear",
    "panda",
    "enderman",
)
_CRAFT_TRAIN = ("oak_planks", "stick", "crafting_table", "wooden_pickaxe", "wooden_sword", "chest", "torch", "ladder",
                "furnace", "stone_pickaxe")  # fmt: skip
_CRAFT_EVAL = ("birch_planks", "wooden_axe", "wooden_shovel", "stone_sword", "stone_axe", "bowl", "paper", "bread",
               "oak_slab", "oak_door", "iron_sword", "bucket", "shears", "white_wool", "tnt", "lever", "book",
               "oak_fence", "golden_apple", "iron_pickaxe")  # fmt: skip


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
        info = BLOCKS[self.target]
        if info.tool == "pickaxe":
            return ("wooden_pickaxe", "stone_pickaxe", "iron_pickaxe")[info.min_tier]
        return f"wooden_{info.tool}" if info.tool in ("axe", "shovel", "hoe") else None

    @property
    def screen(self) -> Literal["inventory", "crafting_table"] | None:
        """The screen a crafting task starts in."""
        if self.category != "craft_item":
            return None
        rows, cols = RecipeBook.default().recipe_for(self.target).size
        return "inventory" if rows <= 2 and cols <= 2 else "crafting_table"

    def ingredients(self, book: RecipeBook | None = None) -> Counter[str]:
        """The items a crafting task starts with: exactly one batch of the recipe's ingredients."""
        book = book or RecipeBook.default()
        recipe = book.recipe_for(self.target)
        if recipe.ingredients is not None:
            return Counter(book.resolve(spec) for spec in recipe.ingredients)
        return Counter(book.resolve(spec) for row in recipe.cells() for spec in row if spec is not None)


def _build() -> tuple[Task, ...]:
    out: list[Task] = []
    for category, train, held_out in (
        ("mine_block", _MINE_TRAIN, _MINE_EVAL),
        ("kill_entity", _KILL_TRAIN, _KILL_EVAL),
        ("craft_item", _CRAFT_TRAIN, _CRAFT_EVAL),
    ):
        out += [Task(category, t, "train") for t in train]  # type: ignore[arg-type]
        out += [Task(category, t, "eval") for t in held_out]  # type: ignore[arg-type]
    return tuple(out)


#: Every registered task.
TASKS: tuple[Task, ...] = _build()
_BY_ID = {t.id: t for t in TASKS}


def tasks(split: Literal["train", "eval", "all"] = "all", category: str | None = None) -> list[Task]:
    """Registered tasks of a split and (optionally) a category.

    Examples:
        >>> len(tasks("train")), len(tasks("train", "craft_item")), len(tasks()) >= 60
        (30, 10, True)
    """
    if split not in ("train", "eval", "all"):
        raise ValueError(f"split must be 'train', 'eval' or 'all', got {split!r}")
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; use one of {CATEGORIES}")
    return [t for t in TASKS if split in ("all", t.split) and (category is None or t.category == category)]


def get_task(task_id: str) -> Task:
    """The registered task with this id (``"mine_block:oak_log"``)."""
    try:
        return _BY_ID[task_id]
    except KeyError:
        raise ValueError(
            f"unknown task {task_id!r}; see actionspaces.envs.craftworld.tasks() for the registry"
        ) from None


def _check_registry() -> None:
    for task in TASKS:
        if task.category == "mine_block" and task.target not in BLOCKS:
            raise AssertionError(f"{task.id}: no such block")
        if task.category == "kill_entity" and task.target not in MOBS:
            raise AssertionError(f"{task.id}: no such mob")
        if task.category == "craft_item":
            RecipeBook.default().recipe_for(task.target)


_check_registry()
