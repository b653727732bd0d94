"""CraftWorld's oracles: controllers that read the simulator's privileged state, which no real agent has.

* :class:`OracleGroundingController` looks up the object at the point in the simulator's **exact
  segmentation** (``CraftWorld.object_at``) and pursues it, from wherever it moves, until the simulator
  says it is mined or killed. A real agent sees pixels: the library's
  :class:`~actionspaces.controllers.GroundingController` only turns to the point's direction and acts
  for a fixed budget.
* :class:`OracleSkillController` runs a skill phrase with the **scripted expert**, which knows where every
  block and mob is; it fails at a seeded rate so that the language space is not free. A real agent needs a
  learned skill policy (STEVE-1) behind :class:`~actionspaces.controllers.SkillPolicyController`.

They take the :class:`CraftWorldState` that ``CraftWorld.control_state()`` returns (it carries the env) and
refuse any other state. ``bench_labels.py`` measures what they flatter: the label agreement of each
space with the oracles beside the non-privileged controllers.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, cast

import numpy as np

from ...canonical import Button, CanonicalAction
from ...controllers import Controller, GroundingController, LatentCodebook, default_controllers, release_first
from ...registry import registered_controllers
from ...spaces import GroundingCommand, GroundingSpace, LanguageAction, MotionSpace, RawSpace
from ...spaces.language import SkillResolver
from ...state import ControlState, ViewState, angle_to, wrap_degrees
from .catalog import BLOCKS, MOBS
from .env import CraftWorld, CraftWorldState
from .expert import Expert, SubGoal
from .world import Hit

__all__ = [
    "CONTROLLER_KINDS",
    "OracleGroundingController",
    "OracleSkillController",
    "craftworld_controllers",
    "parse_skill",
]

#: ``"oracle"``: the privileged grounding and skills; ``"agent"``: the non-privileged grounding (skills
#: stay scripted, since CraftWorld has no learned skill policy).
CONTROLLER_KINDS = ("oracle", "agent")

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
_TREE_WORDS = {"tree", "wood", "log", "logs"}
_LONGEST_NAME = max(len(name.split("_")) for name in (*BLOCKS, *MOBS))


def _privileged(state: ControlState, who: str) -> CraftWorld:
    if not isinstance(state, CraftWorldState):
        raise TypeError(
            f"{who} is a CraftWorld oracle: it reads the simulator's state and runs only on CraftWorld's "
            f"control_state(), not on a {type(state).__name__}; use the library's non-privileged controllers "
            "(actionspaces.controllers.default_controllers) on other envs"
        )
    return state.env


def parse_skill(text: str) -> tuple[str, str] | None:
    """``(category, target)`` a skill phrase asks for, or ``None`` when it names no CraftWorld skill.

    Examples:
        >>> parse_skill("chop the oak tree"), parse_skill("hunt 2 cows nearby"), parse_skill("dance")
        (('mine_block', 'oak_log'), ('kill_entity', 'cow'), None)
    """
    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        return None
    category = "mine_block" if words[0] in _MINE_VERBS else "kill_entity" if words[0] in _KILL_VERBS else None
    if category is None:
        return None
    names = BLOCKS if category == "mine_block" else MOBS
    words = words[1:]
    # the longest run of words that is a name: "dark oak log" is dark_oak_log, not oak_log; a run is
    # tried as written ("twisting vines") and with its last word singular ("2 coal ores"); "<wood> tree" is
    # that wood's log
    for n in range(min(len(words), _LONGEST_NAME), 0, -1):
        for start in range(len(words) - n + 1):
            written = words[start : start + n]
            singular = [*written[:-1], written[-1].removesuffix("s")]
            for run in (written, singular):
                if "_".join(run) in names:
                    return category, "_".join(run)
                log = "_".join(run[:-1]) + "_log"
                if n > 1 and run[-1] in _TREE_WORDS and log in names and category == "mine_block":
                    return category, log
    for w in words:
        if category == "mine_block" and _ALIASES.get(w) in names:
            return category, _ALIASES[w]
    return None


class OracleGroundingController(GroundingController):
    """Grounding with CraftWorld's exact segmentation: pursue the object at the point until it is gone.

    In the world it finds the object seen at the point and turns, walks and mines or attacks it until it
    is gone or ``budget`` ticks pass. ``Approach`` walks until the object is within
    ``approach_distance``; ``right click`` uses it once in reach; ``move to`` only turns. A point that
    shows no object only turns the view towards it. GUI, ``explore`` and ``no-op`` are the library
    controller's.

    Examples:
        >>> from actionspaces.controllers import execute
        >>> env = CraftWorld("mine_block:oak_log"); _ = env.reset(seed=1)
        >>> obj = next(o for o in env.visible_objects() if o.name == "oak_log")
        >>> x, y = env.grid_point(*obj.pixel)
        >>> action = GroundingSpace().parse(f"Grounding: Mine <|point_start|>({x},{y})<|point_end|>")
        >>> run = execute(OracleGroundingController(), action, env)
        >>> run.reward, env.counters["mine_block"]["oak_log"]
        (1.0, 1)
    """

    def __init__(self, grounding: GroundingSpace | None = None, *, budget: int = 200, approach_distance: float = 2.0,
                 explore_ticks: int = 20) -> None:  # fmt: skip
        super().__init__(grounding, budget=budget, explore_ticks=explore_ticks)
        self.approach_distance = approach_distance
        self._target: Hit | None = None

    def start(self, action: Any, state: ControlState) -> None:
        """Pick the object under the point (world) or the pixel to click (GUI)."""
        _privileged(state, type(self).__name__)
        self._target = None
        super().start(action, state)

    def start_world(self, command: GroundingCommand, px: float, py: float, state: ControlState) -> None:
        """The object at the point in the exact segmentation; the point's direction when there is none."""
        env = _privileged(state, type(self).__name__)
        self._target = env.object_at(px, py)
        if self._target is None:  # nothing there: turn towards the point, as the library's controller does
            super().start_world(command, px, py, state)

    def world_step(self, state: ControlState, verb: str, out_of_budget: bool) -> tuple[CanonicalAction, bool]:
        """Pursue the object: turn to it, walk into reach, mine or attack until the simulator removes it."""
        env = _privileged(state, type(self).__name__)
        world = env.world
        p = world.player
        target = self._target
        if target is None:
            if self._direction is None:
                return CanonicalAction(), True
            pitch, yaw = self._direction
            return self._turn(state, pitch, yaw, set(), done_when_aimed=True, out=out_of_budget)
        point = world.aim_point(target.cell if target.cell is not None else cast(int, target.mob_id))
        if point is None or (target.cell is not None and world.blocks.get(target.cell) != target.name):
            return CanonicalAction(), True  # gone: mined or killed
        eye = p.eye()
        dx, dy, dz = point[0] - eye[0], point[1] - eye[1], point[2] - eye[2]
        pitch, yaw = angle_to(dx, dy, dz)
        distance = math.hypot(dx, dz)
        hit = world.raycast()
        on_target = hit is not None and hit.cell == target.cell and hit.mob_id == target.mob_id
        buttons: set[Button] = set()
        if verb == "move_to":
            return self._turn(state, pitch, yaw, buttons, done_when_aimed=True, out=out_of_budget)
        if verb == "approach":
            if distance <= self.approach_distance:
                return CanonicalAction(), True
            buttons.add("forward")
            return self._turn(state, pitch, yaw, buttons, done_when_aimed=False, out=out_of_budget)
        if on_target:
            if verb == "right_click":
                tick = CanonicalAction(buttons=frozenset({"use"}))
                release = release_first(state, tick)
                return (release, False) if release is not None else (tick, True)
            buttons.add("attack")
        elif abs(wrap_degrees(yaw - p.yaw)) < 25 and distance > 2.0:
            buttons.add("forward")
            if distance > 4.0:
                buttons.add("sprint")
        return self._turn(state, pitch, yaw, buttons, done_when_aimed=False, out=out_of_budget)

    def _turn(
        self, state: ControlState, pitch: float, yaw: float, buttons: set[Button], *, done_when_aimed: bool, out: bool
    ) -> tuple[CanonicalAction, bool]:
        camera, aimed = self.turn_towards(state, pitch, yaw)
        return CanonicalAction(buttons=frozenset(buttons), camera=camera), (done_when_aimed and aimed) or out


class OracleSkillController(Controller[LanguageAction]):
    """Runs a skill phrase with the scripted expert for up to ``budget`` ticks; fails at ``failure_rate``.

    A skill finds the nearest target and pursues it like the expert until one is mined or killed. A
    failed attempt (a seeded draw) wanders instead for ``budget // 4`` ticks. Skills cannot operate a
    GUI: with a screen open, or for a phrase that names no skill, the controller waits one tick.

    Args:
        failure_rate: probability that an attempt fails (default 0.2).
        budget: most ticks one call may take (default 300).
        seed: seeds the failure draws (reproducible runs); :meth:`reset` reseeds them.
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

    def reset(self, seed: int | None) -> None:
        """Reseed the failure draws (``TextActionEnv.reset(seed=...)`` does, so episodes replay exactly)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def start(self, action: LanguageAction, state: ControlState) -> None:
        """Read the phrase and draw whether this attempt fails."""
        env = _privileged(state, type(self).__name__)
        self._skill = parse_skill(action.text) if env.screen is None else None
        self._failing = bool(self.rng.random() < self.failure_rate)
        self._ticks = 0
        if self._skill is not None:
            category, target = self._skill
            self._start_count = env.counters[category][target]

    @staticmethod
    def _goal(expert: Expert, skill: tuple[str, str]) -> SubGoal | None:
        category, target = skill
        if category == "mine_block":
            cell = expert.nearest_block(target)
            return SubGoal("mine", cell, target) if cell is not None else None
        mob = expert.nearest_mob(target)
        return SubGoal("kill", mob.id, target) if mob is not None else None

    def step(self, state: ControlState) -> tuple[CanonicalAction, bool]:
        """One tick of the skill."""
        env = _privileged(state, type(self).__name__)
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
        return expert.pursue(goal), self._ticks >= self.budget

    def finished(self, env: CraftWorld) -> bool:
        """Whether the skill's target count went up since it started."""
        if self._skill is None:
            return True
        category, target = self._skill
        return env.counters[category][target] > self._start_count

    def resolver(self, env: CraftWorld) -> SkillResolver:
        """A ``LanguageSpace`` resolver for ``env``: the first tick of a (successful) skill, the space's g."""

        def first_tick(action: LanguageAction, state: ViewState | None) -> CanonicalAction:
            skill = parse_skill(action.text)
            if skill is None or env.screen is not None:
                return CanonicalAction()
            expert = Expert(env)
            goal = self._goal(expert, skill)
            return expert.pursue(goal) if goal is not None else CanonicalAction()

        return first_tick


def craftworld_controllers(
    kind: Literal["oracle", "agent"] = "oracle",
    *,
    raw: RawSpace | None = None,
    motion: MotionSpace | None = None,
    grounding: GroundingSpace | None = None,
    codebook: LatentCodebook | None = None,
    skill_failure_rate: float = 0.2,
    seed: int | None = 0,
) -> dict[str, Controller[Any]]:
    """One controller per space for CraftWorld: the library's, with CraftWorld's oracles where ``kind`` asks.

    ``"oracle"``: grounding and skills are the oracles (what the reference trainer's published results
    used). ``"agent"``: grounding is the non-privileged controller; skills stay the scripted oracle, the
    only skill CraftWorld has.

    Examples:
        >>> sorted((name, type(c).__name__) for name, c in craftworld_controllers("agent").items())[:2]
        [('grounding', 'GroundingController'), ('language', 'OracleSkillController')]
    """
    if kind not in CONTROLLER_KINDS:
        raise ValueError(f"kind must be one of {CONTROLLER_KINDS}, got {kind!r}")
    built_in = default_controllers(raw=raw, motion=motion, grounding=grounding, codebook=codebook)
    controllers = registered_controllers(skip=built_in) | built_in
    controllers["language"] = OracleSkillController(failure_rate=skill_failure_rate, seed=seed)
    if kind == "oracle":
        controllers["grounding"] = OracleGroundingController(grounding)
    return controllers
