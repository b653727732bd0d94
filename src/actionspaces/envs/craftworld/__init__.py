"""CraftWorld: an embedded, MineRL-compatible simulator of Minecraft's action contract and task vocabulary."""

from .env import ITEMS, CraftWorld, VisibleObject
from .recipes import Recipe, RecipeBook
from .tasks import CATEGORIES, TASKS, Task, get_task, tasks

__all__ = [
    "CATEGORIES",
    "ITEMS",
    "TASKS",
    "CraftWorld",
    "Recipe",
    "RecipeBook",
    "Task",
    "VisibleObject",
    "get_task",
    "tasks",
]
