"""Knowledge without behaviour: CraftWorld question-answer and caption pairs for a base model (M_base).

CrossHA starts from a model that already knows Minecraft (Qwen2-VL fine-tuned on Minecraft VQA and
captions) before any action data. :func:`knowledge_corpus` writes the CraftWorld equivalent over *every*
registered task, train and held out alike:

* from views of play in each task's world (scripted: facing the target; random: turned and walked at
  random): where is the X in this view
  (a point, in the Qwen2-VL grounding format), what is at (x, y), describe this view; in a crafting
  screen, where the X stack is;
* from the world's facts: what crafting X needs and where each ingredient goes, which tool mines X, what
  mining or killing X drops, and how an id is said in words.

It holds no action: no answer or prompt starts with a space's prefix (``Skill:``, ``Grounding:``, ...), so
no task's action label, held out or not, can be in it (``tests/envs/test_knowledge.py`` checks this against
the expert's labels).

Examples:
    >>> from actionspaces.envs.craftworld import get_task
    >>> facts = knowledge_corpus([get_task("mine_block:oak_log")], views=1)
    >>> sorted({f.kind for f in facts})
    ['describe', 'drops', 'identify', 'locate', 'name', 'tool']
    >>> [f.answer for f in facts if f.kind == "tool"]
    ['an oak log breaks by hand; a wooden axe is faster']
    >>> print(next(f for f in facts if f.kind == "name").prompt)
    question: say oak_log in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...canonical import CanonicalAction
from .catalog import BLOCKS, MOBS
from .env import CraftWorld
from .expert import Expert
from .recipes import Recipe, RecipeBook
from .tasks import Task, get_task, tasks

__all__ = ["FACT_KINDS", "Fact", "FactKind", "knowledge_corpus", "spoken"]

FactKind = Literal["locate", "identify", "describe", "recipe", "tool", "drops", "name"]
#: Every kind of fact, view questions first.
FACT_KINDS: tuple[FactKind, ...] = ("locate", "identify", "describe", "recipe", "tool", "drops", "name")

_OBJECT_LINE = re.compile(r"^- (?P<name>[a-z0-9_]+) \((?P<x>\d+),(?P<y>\d+)\) (?P<dist>[\d.]+)m$")
_LOOK_TICKS = 60  # walking ticks towards a far target before the view is taken
_LOOK_DISTANCE = 6.0  # metres: near enough to be listed in the text observation
_SLOT_LINE = re.compile(r"^- (?P<slot>\S+) (?P<name>[a-z0-9_]+) x(?P<count>\d+) \((?P<x>\d+),(?P<y>\d+)\)$")


@dataclass(frozen=True)
class Fact:
    """One question and its answer; ``prompt`` is the observation text (if any) and the question."""

    kind: FactKind
    prompt: str
    answer: str


def spoken(name: str) -> str:
    """An id as words: ``"dark_oak_log"`` -> ``"dark oak log"``.

    Examples:
        >>> spoken("dark_oak_log")
        'dark oak log'
    """
    return name.replace("_", " ")


def _article(name: str) -> str:
    words = spoken(name)
    return f"an {words}" if words[0] in "aeiou" else f"a {words}"


def _point(name: str, x: int, y: int) -> str:
    """Qwen2-VL's grounding answer: the object's reference and its point (0-1000 coordinates)."""
    return f"<|object_ref_start|>{spoken(name)}<|object_ref_end|><|point_start|>({x},{y})<|point_end|>"


def _ask(observation: str, question: str) -> str:
    return f"{observation}\nquestion: {question}" if observation else f"question: {question}"


def _located_first(matches: list[re.Match[str]], target: str, rng: np.random.Generator) -> list[re.Match[str]]:
    """Two objects to ask about: the task's target if it is in view (so every name is grounded), then random."""
    shuffled = [matches[i] for i in rng.permutation(len(matches))]
    return sorted(shuffled, key=lambda m: m["name"] != target)[:2]


def _view_facts(text: str, target: str, rng: np.random.Generator) -> list[Fact]:
    """Questions about one text observation: what is where, what is at a point, a caption."""
    objects = [m for line in text.splitlines() if (m := _OBJECT_LINE.match(line))]
    slots = [m for line in text.splitlines() if (m := _SLOT_LINE.match(line))]
    facts: list[Fact] = []
    if objects:
        for m in _located_first(objects, target, rng):  # two located, one identified
            facts.append(Fact("locate", _ask(text, f"where is the {spoken(m['name'])}?"),
                              _point(m["name"], int(m["x"]), int(m["y"]))))  # fmt: skip
        m = objects[int(rng.integers(len(objects)))]
        facts.append(Fact("identify", _ask(text, f"what is at ({m['x']},{m['y']})?"), _article(m["name"])))
        seen = "; ".join(f"{_article(m['name'])} {m['dist']} m away at ({m['x']},{m['y']})" for m in objects)
        facts.append(Fact("describe", _ask(text, "describe this view."), f"I see {seen}."))
    elif slots:
        for m in _located_first(slots, target, rng):
            facts.append(Fact("locate", _ask(text, f"where are the {spoken(m['name'])}?"),
                              _point(m["name"], int(m["x"]), int(m["y"]))))  # fmt: skip
        stacks = "; ".join(f"{m['count']} {spoken(m['name'])} in {m['slot']}" for m in slots)
        facts.append(Fact("describe", _ask(text, "describe this screen."), f"A crafting screen with {stacks}."))
    else:
        facts.append(Fact("describe", _ask(text, "describe this view."), "I see nothing nearby."))
    return facts


def _look_at_target(env: CraftWorld, task: Task) -> None:
    """Scripted play: turn to face the nearest target block or mob, then walk until it is in view range."""
    expert = Expert(env)
    if task.category == "mine_block":
        target: tuple[int, int, int] | int | None = expert.nearest_block(task.target)
    else:
        mob = expert.nearest_mob(task.target)
        target = None if mob is None else mob.id
    for _ in range(_LOOK_TICKS):
        to = None if target is None else env.world.bearing_to(target)
        if to is None:
            return
        far = to.horizontal > _LOOK_DISTANCE
        env.step(CanonicalAction(buttons=frozenset({"forward"} if far else ()), camera=(to.dpitch, to.dyaw)))
        if not far:
            return


def _views(task: Task, views: int, seed: int, rng: np.random.Generator) -> list[str]:
    """Text observations of play in ``task``'s world, each from a reset.

    Even views face the target (scripted), odd ones are a random turn and a few steps, so every target is
    seen and so is what surrounds it.
    """
    env = CraftWorld(task)
    texts = []
    for k in range(views):
        env.reset(seed=seed + k)
        if env.screen is None and k % 2 == 0 and task.category != "craft_item":
            _look_at_target(env, task)
        elif env.screen is None:
            env.step({"camera": [float(rng.uniform(-30, 30)), float(rng.uniform(-180, 180))]})
            for _ in range(int(rng.integers(0, 6))):
                env.step({"forward": 1})
        texts.append(env.text())
    return texts


def _recipe_answer(recipe: Recipe, book: RecipeBook) -> str:
    """Where each ingredient goes: the pattern row by row, or any cells for a shapeless recipe."""
    made = f"{recipe.count} {spoken(recipe.result)}"
    if recipe.pattern is None:
        items = ", ".join(spoken(book.resolve(spec)) for spec in recipe.filled_cells)
        return f"{made}: {items}, in any cells"
    rows = [", ".join(spoken(book.resolve(c)) if c else "empty" for c in row) for row in recipe.cells()]
    rows_text = "; ".join(f"row {i + 1}: {row}" for i, row in enumerate(rows))
    grid = "the inventory grid" if recipe.size[0] <= 2 and recipe.size[1] <= 2 else "a crafting table"
    return f"{made}, in {grid}: {rows_text}"


def _tool_answer(block: str) -> str:
    info = BLOCKS[block]
    name = _article(block)
    if info.tool is None:
        return f"{name} breaks by hand; no tool is faster"
    if info.needs_tool:
        return f"{name} needs {_article(info.tool)} at least; by hand it drops nothing"
    return f"{name} breaks by hand; {_article(info.tool)} is faster"


def _drops_answer(drops: Sequence[tuple[str, int]]) -> str:
    return " and ".join(f"{n} {spoken(item)}" for item, n in drops) if drops else "nothing"


def _world_facts(targets: Iterable[Task], book: RecipeBook) -> list[Fact]:
    """Facts that need no view: recipes, tools, drops, and how each name is said."""
    facts: list[Fact] = []
    for task in targets:
        name = task.target
        facts.append(Fact("name", _ask("", f"say {name} in words."), spoken(name)))
        if task.category == "craft_item":
            for recipe in book.recipes_for(name):
                question = f"what does crafting {_article(name)} need, and where does each ingredient go?"
                facts.append(Fact("recipe", _ask("", question), _recipe_answer(recipe, book)))
        elif task.category == "mine_block":
            facts.append(Fact("tool", _ask("", f"which tool mines {_article(name)}?"), _tool_answer(name)))
            question = f"what does mining {_article(name)} drop?"
            facts.append(Fact("drops", _ask("", question), _drops_answer(BLOCKS[name].drops)))
        else:
            question = f"what does killing {_article(name)} drop?"
            facts.append(Fact("drops", _ask("", question), _drops_answer(MOBS[name].drops)))
    return facts


def knowledge_corpus(targets: Sequence[Task | str] | None = None, *, views: int = 2, seed: int = 0) -> list[Fact]:
    """Question-answer and caption pairs over ``targets`` (every registered task by default).

    Args:
        targets: the tasks (or task ids, ``"mine_block:oak_log"``) whose worlds are viewed and whose targets'
            facts are written.
        views: views per task, alternately facing the target and at random (each gives a caption and up to
            three point questions).
        seed: seeds the resets (``seed``, ``seed + 1``, ...) and the random play; the corpus is a pure
            function of its arguments.

    Raises:
        ValueError: ``views`` is negative, or a task id is not registered.
        TypeError: a target is neither a ``Task`` nor a task id.

    Examples:
        >>> from actionspaces.envs.craftworld import get_task
        >>> facts = knowledge_corpus([get_task("craft_item:stick")], views=0)
        >>> for fact in [f for f in facts if f.kind == "recipe"][-2:]:  # one fact per recipe of the item
        ...     print(fact.answer)
        4 stick, in the inventory grid: row 1: warped planks; row 2: warped planks
        1 stick, in the inventory grid: row 1: bamboo; row 2: bamboo
    """
    if views < 0:
        raise ValueError(f"views must be >= 0, got {views}")
    chosen = list(tasks("all")) if targets is None else [get_task(t) for t in targets]
    rng = np.random.default_rng(seed)
    book = RecipeBook.default()
    facts: list[Fact] = []
    for task in chosen:
        for text in _views(task, views, seed, rng):
            facts += _view_facts(text, task.target, rng)
    return facts + _world_facts(chosen, book)
