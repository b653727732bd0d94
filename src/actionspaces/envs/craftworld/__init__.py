"""CraftWorld: an embedded, MineRL-compatible simulator of Minecraft's action contract and task vocabulary."""

from .env import ITEMS, TEXT_CHARSET, CraftWorld, VisibleObject
from .recipes import Recipe, RecipeBook
from .tasks import CATEGORIES, TASKS, Task, get_task, tasks

__all__ = [
    "CATEGORIES",
    "ITEMS",
    "TASKS",
    "TEXT_CHARSET",
    "CraftWorld",
    "Recipe",
    "RecipeBook",
    "Task",
    "VisibleObject",
    "get_task",
    "tasks",
]
