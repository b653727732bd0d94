"""OpenHA / MineStudio task ids: ``"category:item"``, where the category names a cumulative counter."""

from __future__ import annotations

__all__ = ["TASK_CATEGORIES", "parse_task"]

#: The counters of MineStudio's ``info`` that task ids name, as ``category:item``.
TASK_CATEGORIES = ("mine_block", "kill_entity", "craft_item", "use_item", "pickup", "drop", "break_item")


def parse_task(task: str) -> tuple[str, str]:
    """Split an OpenHA task id ``"category:item"``.

    Examples:
        >>> parse_task("mine_block:oak_log")
        ('mine_block', 'oak_log')
    """
    if not isinstance(task, str) or task.count(":") != 1:
        raise ValueError(f"a task id is 'category:item' (e.g. 'mine_block:oak_log'), got {task!r}")
    category, item = task.split(":")
    if category not in TASK_CATEGORIES or not item:
        raise ValueError(f"unknown task category in {task!r}; known: {', '.join(TASK_CATEGORIES)}")
    return category, item
