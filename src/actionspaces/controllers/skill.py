"""The language controller: scripted skills ("chop the oak tree", "hunt a cow") that sometimes fail."""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

import numpy as np

from ..canonical import CanonicalAction
from ..spaces import LanguageAction
from ..spaces.language import SkillResolver
from ..state import ViewState
from .base import Controller

if TYPE_CHECKING:
    from ..envs.craftworld import CraftWorld
    from ..envs.craftworld.expert import Expert, SubGoal

__all__ = ["SkillController", "parse_skill"]

_MINE_VERBS = {"chop", "mine", "dig", "collect", "gather", "break", "get", "cut", "harvest", "obtain"}
_KILL_VERBS = {"hunt", "kill", "attack", "slay", "fight", "defeat"}
#: Words that name a block or mob differently from its id.
_ALIASES = {
    "tree": "oak_log",
    "wood": "oak_log",
    "log": "oak_log",
    "logs": "oak_log",
    "rock": "stone",
    "cane": "sugar_cane",
}


def parse_skill(text: str) -> tuple[str, str] | None:
    """``(category, target)`` a skill phrase asks for, or ``None`` when it names no known skill.

    Examples:
        >>> parse_skill("chop the oak tree"), parse_skill("hunt 2 cows nearby"), parse_skill("dance")
        (('mine_block', 'oak_log'), ('kill_entity', 'cow'), None)
    """
    from ..envs.craftworld.catalog import BLOCKS, MOBS

    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        return None
    category = "mine_block" if words[0] in _MINE_VERBS else "kill_entity" if words[0] in _KILL_VERBS else None
    if category is None:
        return None
    names = BLOCKS if category == "mine_block" else MOBS
    singular = [w[:-1] if w.endswith("s") and w[:-1] in names else w for w in words[1:]]
    for a, b in itertools.pairwise(singular):  # two-word names first: "oak log", "sugar cane"
        if f"{a}_{b}" in names:
            return category, f"{a}_{b}"
        if a in ("oak", "birch", "spruce", "jungle", "acacia") and b in ("tree", "wood", "log", "logs"):
            return category, f"{a}_log"
    for w in singular:
        if w in names:
            return category, w
        if category == "mine_block" and _ALIASES.get(w) in names:
            return category, _ALIASES[w]
    return None


class SkillController(Controller[LanguageAction]):
    """Runs a scripted skill for up to ``budget`` ticks; fails with probability ``failure_rate``.

    A skill finds the nearest target and pursues it like the expert until one is mined or killed. A
    failed attempt (a seeded draw) wanders instead for ``budget // 4`` ticks. Skills cannot operate a
    GUI: with a screen open, or for a phrase that names no skill, the controller waits one tick.

    Args:
        failure_rate: probability that an attempt fails (default 0.2).
        budget: most ticks one call may take (default 300).
        seed: seeds the failure draws (reproducible runs).
    """

    space = "language"

    def __init__(self, *, failure_rate: float = 0.2, budget: int = 300, seed: int | None = 0) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be in [0, 1], got {failure_rate}")
        if budget < 1:
            raise ValueError(f"budget must be >= 1, got {budget}")
        self.failure_rate = failure_rate
        self.budget = budget
        self.rng = np.random.default_rng(seed)
        self._skill: tuple[str, str] | None = None
        self._failing = False
        self._ticks = 0
        self._start_count = 0

    def seed(self, seed: int | None) -> None:
        """Reseed the failure draws (``TextActionEnv.reset(seed=...)`` does, so episodes replay exactly)."""
        self.rng = np.random.default_rng(seed)

    def start(self, action: LanguageAction, env: CraftWorld) -> None:
        """Read the phrase and draw whether this attempt fails."""
        self._skill = parse_skill(action.text) if env.screen is None else None
        self._failing = bool(self.rng.random() < self.failure_rate)
        self._ticks = 0
        if self._skill is not None:
            category, target = self._skill
            self._start_count = env.counters[category][target]

    @staticmethod
    def _goal(expert: Expert, skill: tuple[str, str]) -> SubGoal | None:
        from ..envs.craftworld.expert import SubGoal

        category, target = skill
        if category == "mine_block":
            cell = expert.nearest_block(target)
            return SubGoal("mine", cell, target) if cell is not None else None
        mob = expert.nearest_mob(target)
        return SubGoal("kill", mob.id, target) if mob is not None else None

    def step(self, env: CraftWorld) -> tuple[CanonicalAction, bool]:
        """One tick of the skill."""
        from ..envs.craftworld.expert import Expert

        if self._skill is None or self.finished(env):
            return CanonicalAction(), True
        self._ticks += 1
        if self._failing:
            turn = float(self.rng.uniform(-10, 10))
            return CanonicalAction(buttons=frozenset({"forward"}), camera=(0.0, turn)), self._ticks >= self.budget // 4
        expert = Expert(env)
        goal = self._goal(expert, self._skill)
        if goal is None:
            return CanonicalAction(), True  # nothing of the kind is left
        tick = expert.pursue(goal)
        done = self._ticks >= self.budget
        return tick, done

    def finished(self, env: CraftWorld) -> bool:
        """Whether the skill's target count went up since it started."""
        if self._skill is None:
            return True
        category, target = self._skill
        return env.counters[category][target] > self._start_count

    def resolver(self, env: CraftWorld) -> SkillResolver:
        """A ``LanguageSpace`` resolver for ``env``: the first tick of a (successful) skill, the space's g."""

        def first_tick(action: LanguageAction, state: ViewState | None) -> CanonicalAction:
            from ..envs.craftworld.expert import Expert

            skill = parse_skill(action.text)
            if skill is None or env.screen is not None:
                return CanonicalAction()
            expert = Expert(env)
            goal = self._goal(expert, skill)
            return expert.pursue(goal) if goal is not None else CanonicalAction()

        return first_tick
