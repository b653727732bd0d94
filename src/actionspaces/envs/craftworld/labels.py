"""Labelers: the expert's step, written in every action space (CrossHA's auto-labelling, exact here).

The paper labels expert data with SAM and MineCLIP. The simulator knows every object, so the labels are
exact. From an expert trajectory, at tick ``t``:

* **raw**: the tick's action, its mouse move rounded to whole units as OpenHA's encoder writes it (1 tick);
* **motion**: the primitive that best describes the next 4 ticks (held keys, turn or cursor direction);
* **grounding**: the expert's current target (block, mob or GUI slot) as a verb and its point, covering
  the ticks until the expert completes that sub-goal (``None`` when the target is out of view);
* **language**: the skill ("mine oak log", "kill cow") covering the same ticks (``None`` in a GUI);
* **latent**: the codebook code of the next 4 ticks (needs a :class:`LatentCodebook`).

:func:`check_label` executes a label from the same state through its controller and tells whether it
reaches the sub-goal the expert's raw actions reach over the label's span; :func:`label_agreement`
measures that rate per space and task category.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ...canonical import CanonicalAction
from ...controllers import Controller, LatentCodebook, execute
from ...controllers.latent import LATENT_CHUNK_TICKS
from ...registry import text_order
from ...spaces import (
    GroundingAction,
    GroundingCommand,
    GroundingSpace,
    LanguageAction,
    LanguageSpace,
    LatentAction,
    LatentSpace,
    MotionAction,
    MotionSpace,
    Point,
    RawSpace,
)
from ...state import angle_to, wrap_degrees
from .env import CraftWorld
from .expert import Expert, SubGoal
from .gui import SlotRef
from .oracles import craftworld_controllers
from .tasks import Task

__all__ = ["SPACES", "ExpertStep", "Label", "check_label", "label_agreement", "label_step", "record_expert"]

#: The spaces the labellers write, in the registry's text order.
SPACES = tuple(name for name in text_order() if name in ("raw", "motion", "grounding", "language", "latent"))
_CHUNK = LATENT_CHUNK_TICKS  # a motion label and a latent label both span one latent chunk


@dataclass(frozen=True)
class ExpertStep:
    """The state before an expert tick (a clone of the env), the tick's action and its sub-goal."""

    env: CraftWorld
    action: CanonicalAction
    goal: SubGoal


@dataclass(frozen=True)
class Label:
    """One space's version of the expert's step: the response text, its action, and the ticks it covers."""

    space: str
    text: str
    action: Any
    ticks: int


def record_expert(task: Task | str, seed: int, max_ticks: int = 2400) -> list[ExpertStep]:
    """Play the expert on ``task`` from ``seed``, keeping a clone of the state before every tick."""
    env = CraftWorld(task, max_ticks=max_ticks)
    env.reset(seed=seed)
    expert = Expert(env)
    steps: list[ExpertStep] = []
    for _ in range(max_ticks):
        before = env.clone()
        action, goal = expert.act()
        steps.append(ExpertStep(before, action, goal))
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    return steps


def _goal_span(steps: Sequence[ExpertStep], t: int) -> int:
    """Ticks from ``t`` until the expert completes its current sub-goal (the click tick included)."""
    goal = steps[t].goal
    for k in range(t, len(steps)):
        g = steps[k].goal
        if (g.kind, g.target) != (goal.kind, goal.target):
            return k - t
        if g.kind == "click" and steps[k].action.buttons & {"attack", "use"}:
            return k - t + 1
    return len(steps) - t


def _motion_from(ticks: Sequence[CanonicalAction], gui: bool) -> MotionAction:
    """The motion primitive closest to a few ticks: keys held in most of them, the net turn direction."""
    n = len(ticks)

    def held(key: str) -> bool:
        return sum(key in t.buttons for t in ticks) * 2 > n

    pitch = sum(t.camera[0] for t in ticks)
    yaw = sum(t.camera[1] for t in ticks)
    threshold = 2.0 * n / 4  # at least half a step of the 4-tick primitive
    look_x = ("right" if yaw > 0 else "left") if abs(yaw) >= threshold else None
    look_y = ("down" if pitch > 0 else "up") if abs(pitch) >= threshold else None
    if gui:
        clicked = any("attack" in t.buttons for t in ticks)
        if not (look_x or look_y or clicked):
            return MotionAction()  # the cursor rests: the no-op, which has no GUI wording
        return MotionAction(look_x=look_x, look_y=look_y, attack=clicked, gui=True)
    return MotionAction(
        forward_back="forward" if held("forward") else "back" if held("back") else None,
        left_right="left" if held("left") else "right" if held("right") else None,
        stance="sprint" if held("sprint") else "sneak" if held("sneak") else None,
        look_x=look_x,
        look_y=look_y,
        attack=held("attack"),
        use=held("use"),
        jump=held("jump"),
    )


def _goal_point(env: CraftWorld, goal: SubGoal) -> tuple[int, int] | None:
    """The 0–1000 point of the sub-goal's target in the current view, or ``None`` when out of view."""
    if goal.kind == "click" and env.screen is not None and isinstance(goal.target, SlotRef):
        return env.grid_point(*env.screen.slot_centre(goal.target))
    if goal.kind not in ("mine", "kill") or env.screen is not None:
        return None
    world = env.world
    centre = world.aim_point(goal.target)  # type: ignore[arg-type]
    if centre is None:
        return None

    pix, depth = env.camera.project(np.array([centre]), world.player.eye(), world.player.yaw, world.player.pitch)
    px, py = pix[0]
    if depth[0] <= 0.2 or not (0 <= px < env.camera.width and 0 <= py < env.camera.height):
        return None
    hit = env.object_at(px, py)
    seen = hit is not None and (hit.cell == goal.target if goal.kind == "mine" else hit.mob_id == goal.target)
    return env.grid_point(px, py) if seen else None


def label_step(steps: Sequence[ExpertStep], t: int, codebook: LatentCodebook | None = None) -> dict[str, Label]:
    """The expert's step ``t`` written in each space that can express it."""
    step = steps[t]
    env = step.env
    gui = env.screen is not None
    labels: dict[str, Label] = {}
    exact = RawSpace().from_canonical(step.action)
    # OpenHA's ground-truth encoder writes whole mouse units (spec §2.7): a label a model can copy
    raw = exact.model_copy(update={"dx": float(round(exact.dx)), "dy": float(round(exact.dy))})
    labels["raw"] = Label("raw", RawSpace().render(raw), raw, 1)
    chunk = [s.action for s in steps[t : t + _CHUNK]]
    motion = _motion_from(chunk, gui)
    labels["motion"] = Label("motion", MotionSpace().render(motion), motion, len(chunk))
    span = _goal_span(steps, t)
    point = _goal_point(env, step.goal)
    if point is not None:
        name = step.goal.name.replace("_", " ")
        if step.goal.kind == "click":
            if not step.goal.shift:
                verb = "right_click" if step.goal.button == "right" else "mine"
                command = GroundingCommand(verb=verb, points=(Point(x=point[0], y=point[1]),))
                action = GroundingAction(commands=(command,))
                labels["grounding"] = Label("grounding", GroundingSpace().render(action), action, span)
        else:
            command = GroundingCommand(verb=step.goal.kind, label=name, points=(Point(x=point[0], y=point[1]),))
            action = GroundingAction(commands=(command,))
            labels["grounding"] = Label("grounding", GroundingSpace().render(action), action, span)
    if not gui and step.goal.kind in ("mine", "kill"):
        skill = LanguageAction(text=f"{step.goal.kind} {step.goal.name.replace('_', ' ')}")
        labels["language"] = Label("language", LanguageSpace().render(skill), skill, span)
    if codebook is not None:
        codes = codebook.encode(chunk)
        latent = LatentAction(codes=tuple(codes))
        text = LatentSpace(codebook_size=codebook.size).render(latent)
        labels["latent"] = Label("latent", text, latent, len(chunk))
    return labels


def _controller(space: str, codebook: LatentCodebook | None, kind: Literal["oracle", "agent"]) -> Controller[Any]:
    if space == "latent" and codebook is None:
        raise ValueError("latent labels need a codebook")
    # labels are checked against a skill that does not fail: the failure rate is the controller's, not the label's
    return craftworld_controllers(kind, codebook=codebook, skill_failure_rate=0.0)[space]


def _target_error(env: CraftWorld, goal: SubGoal) -> tuple[float, float] | None:
    """``(angle °, distance)`` from the view to the goal's target (world), or ``(cursor px, 0)`` (GUI)."""
    if goal.kind == "click" and env.screen is not None and isinstance(goal.target, SlotRef):
        tx, ty = env.screen.slot_centre(goal.target)
        return math.hypot(tx - env.cursor[0], ty - env.cursor[1]), 0.0
    world = env.world
    p = world.player
    if goal.kind not in ("mine", "kill"):
        return 0.0, 0.0
    point = world.aim_point(goal.target)  # type: ignore[arg-type]
    if point is None:
        return None
    eye = p.eye()
    dx, dy, dz = point[0] - eye[0], point[1] - eye[1], point[2] - eye[2]
    pitch, yaw = angle_to(dx, dy, dz)
    angle = math.hypot(pitch - p.pitch, wrap_degrees(yaw - p.yaw))
    return angle, math.hypot(dx, dz)


def _gui_state(env: CraftWorld) -> tuple[Any, ...]:
    screen = env.screen
    grid = tuple((s.item, s.count) if s else None for s in screen.grid) if screen else ()
    cursor = (screen.cursor.item, screen.cursor.count) if screen and screen.cursor else None
    return grid, cursor, tuple(sorted(env.world.player.inventory.counts().items()))


def check_label(
    steps: Sequence[ExpertStep],
    t: int,
    label: Label,
    codebook: LatentCodebook | None = None,
    *,
    controllers: Literal["oracle", "agent"] = "oracle",
) -> bool:
    """Whether executing ``label`` from the state before tick ``t`` reaches the expert's sub-goal.

    ``controllers`` executes the label with CraftWorld's oracles or the library's non-privileged
    controllers (:func:`~actionspaces.envs.craftworld.oracles.craftworld_controllers`).

    The expert's outcome is the state after its raw actions over the label's span. When that span
    completes the sub-goal (a block mined, a mob killed, a slot clicked), the label must complete it too.
    Otherwise the label must leave the target at least as well aimed and as near (within 5° and 0.5
    blocks, or 9 px of cursor: half a slot) as the expert did, with the same GUI contents.
    """
    goal = steps[t].goal
    expert_env = steps[t + label.ticks].env if t + label.ticks < len(steps) else None
    env = steps[t].env.clone()
    run = execute(_controller(label.space, codebook, controllers), label.action, env, max_ticks=400)
    terminated = run.terminated
    if expert_env is None:  # the expert's span ends the episode: the label must succeed too
        return terminated
    expected = _target_error(expert_env, goal)
    got = _target_error(env, goal)
    if goal.kind == "click":
        if _gui_state(expert_env) != _gui_state(steps[t].env):  # the expert's span includes the click
            return _gui_state(env) == _gui_state(expert_env)
        assert expected is not None and got is not None
        return _gui_state(env) == _gui_state(expert_env) and got[0] <= expected[0] + 9.0
    if expected is None:  # the expert finished the target within the span
        return got is None or terminated
    if got is None:
        return True  # the label finished it earlier than the expert
    return got[0] <= expected[0] + 5.0 and got[1] <= expected[1] + 0.5


def label_agreement(
    task_list: Iterable[Task],
    seeds: Iterable[int],
    *,
    codebook: LatentCodebook | None = None,
    stride: int = 4,
    controllers: Literal["oracle", "agent"] = "oracle",
) -> dict[tuple[str, str], tuple[int, int]]:
    """``{(space, category): (agreeing, labelled)}`` over every ``stride``-th expert tick of each episode.

    ``controllers`` executes the labels with CraftWorld's oracles or the non-privileged controllers.
    """
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    seeds = list(seeds)
    for task in task_list:
        for seed in seeds:
            steps = record_expert(task, seed)
            for t in range(0, len(steps), stride):
                for space, label in label_step(steps, t, codebook).items():
                    ok = check_label(steps, t, label, codebook, controllers=controllers)
                    entry = counts[(space, task.category)]
                    entry[0] += ok
                    entry[1] += 1
    return {key: (v[0], v[1]) for key, v in counts.items()}
