"""CraftWorld: an embedded, MineRL-compatible simulator of Minecraft's action contract and task vocabulary."""

from .env import ITEMS, TEXT_CHARSET, CraftWorld, VisibleObject
from .expert import Expert, SubGoal
from .labels import SPACES, ExpertStep, Label, check_label, label_agreement, label_step, record_expert
from .recipes import Recipe, RecipeBook
from .tasks import CATEGORIES, TASKS, Task, get_task, tasks

__all__ = [
    "CATEGORIES",
    "ITEMS",
    "SPACES",
    "TASKS",
    "TEXT_CHARSET",
    "CraftWorld",
    "Expert",
    "ExpertStep",
    "Label",
    "Recipe",
    "RecipeBook",
    "SubGoal",
    "Task",
    "VisibleObject",
    "check_label",
    "get_task",
    "label_agreement",
    "label_step",
    "record_expert",
    "tasks",
]
