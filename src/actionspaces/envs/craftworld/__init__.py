"""CraftWorld: an embedded, MineRL-compatible simulator of Minecraft's action contract and task vocabulary."""

from .env import ITEMS, TEXT_CHARSET, CraftWorld, CraftWorldState, VisibleObject
from .expert import Expert, SubGoal
from .knowledge import FACT_KINDS, Fact, knowledge_corpus, spoken
from .labels import SPACES, ExpertStep, Label, check_label, label_agreement, label_step, record_expert
from .oracles import (
    CONTROLLER_KINDS,
    OracleGroundingController,
    OracleSkillController,
    craftworld_controllers,
    parse_skill,
)
from .recipes import Recipe, RecipeBook
from .tasks import CATEGORIES, EXCLUDED, TASKS, Task, get_task, task_subset, tasks
from .text_env import make_text_env

__all__ = [
    "CATEGORIES",
    "CONTROLLER_KINDS",
    "EXCLUDED",
    "FACT_KINDS",
    "ITEMS",
    "SPACES",
    "TASKS",
    "TEXT_CHARSET",
    "CraftWorld",
    "CraftWorldState",
    "Expert",
    "ExpertStep",
    "Fact",
    "Label",
    "OracleGroundingController",
    "OracleSkillController",
    "Recipe",
    "RecipeBook",
    "SubGoal",
    "Task",
    "VisibleObject",
    "check_label",
    "craftworld_controllers",
    "get_task",
    "knowledge_corpus",
    "label_agreement",
    "label_step",
    "make_text_env",
    "parse_skill",
    "record_expert",
    "spoken",
    "task_subset",
    "tasks",
]
