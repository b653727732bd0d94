"""Scripted experts: ground-truth raw tick actions that solve each task from any seeded start.

The expert reads the simulator's state (it knows where every object is) and works through *sub-goals*:
in the world, "break this block" or "kill this mob" (turn towards it, walk until it is in reach, hold
attack); in a GUI, "click this slot with this button" (move the cursor there at most ``max_cursor_deg``
per tick, then click). Each tick's action comes with the sub-goal it serves, which the labelers use.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from ...canonical import Button, CanonicalAction
from ...state import GUI_PX_PER_DEGREE
from .env import CraftWorld
from .gui import SlotRef
from .world import Mob

__all__ = ["Expert", "SubGoal", "solve"]


@dataclass(frozen=True)
class SubGoal:
    """What the expert is doing: mine a cell, kill a mob, click a slot, close the screen, or explore.

    ``kind`` is ``"mine"``, ``"kill"``, ``"click"``, ``"close"`` or ``"explore"``; ``target`` is the block
    cell, the mob id or the slot; ``name`` the block, mob or item concerned.
    """

    kind: str
    target: object
    name: str = ""
    button: str = "left"
    shift: bool = False


def _clip(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))


class Expert:
    """A scripted policy for the env's current task.

    Args:
        env: the environment it acts in (after ``reset``).
        max_turn_deg: largest view rotation per tick.
        max_cursor_deg: largest cursor move per tick in a GUI (in camera degrees; 15° = 100 px).
        walk_cone_deg: walk only while the target's bearing is within this many degrees of the view.

    Examples:
        >>> env = CraftWorld("craft_item:oak_planks"); _ = env.reset(seed=3)
        >>> trajectory = list(Expert(env).run())
        >>> trajectory[-1][2]["craft_item"]["oak_planks"]
        4
    """

    def __init__(
        self,
        env: CraftWorld,
        *,
        max_turn_deg: float = 10.0,
        max_cursor_deg: float = 15.0,
        walk_cone_deg: float = 25.0,
    ) -> None:
        self.env = env
        self.max_turn_deg = max_turn_deg
        self.max_cursor_deg = max_cursor_deg
        self.walk_cone_deg = walk_cone_deg
        self._plan: list[SubGoal] | None = None
        self._released = True
        self._stuck = 0
        self._last_pos: tuple[float, float] | None = None

    # ------------------------------------------------------------------------------------- policy
    def subgoal(self) -> SubGoal:
        """The sub-goal the next action serves."""
        env = self.env
        task = env.task
        if task.category == "craft_item":
            if env.screen is None:
                raise RuntimeError("a crafting task needs its screen open")
            if self._plan is None:
                self._plan = self._craft_plan()
            return self._plan[0]
        if env.screen is not None:
            return SubGoal("close", None)
        if task.category == "mine_block":
            cell = self.nearest_block(task.target)
            return SubGoal("mine", cell, task.target) if cell is not None else SubGoal("explore", None)
        mob = self.nearest_mob(task.target)
        return SubGoal("kill", mob.id, mob.kind) if mob is not None else SubGoal("explore", None)

    def act(self) -> tuple[CanonicalAction, SubGoal]:
        """The next tick's action and the sub-goal it serves."""
        goal = self.subgoal()
        if goal.kind == "close":
            return CanonicalAction(buttons=frozenset({"ESC"})), goal
        if goal.kind == "click":
            return self._click(goal), goal
        if goal.kind == "explore":
            return CanonicalAction(buttons=frozenset({"forward"}), camera=(0.0, 5.0)), goal
        return self.pursue(goal), goal

    def run(self, max_ticks: int | None = None) -> Iterator[tuple[CanonicalAction, SubGoal, dict[str, object], bool]]:
        """Step the env until the episode ends; yields ``(action, sub-goal, info, done)`` per tick."""
        limit = max_ticks if max_ticks is not None else self.env.max_ticks
        for _ in range(limit):
            action, goal = self.act()
            _, _, terminated, truncated, info = self.env.step(action)
            yield action, goal, info, terminated or truncated
            if terminated or truncated:
                return

    # ------------------------------------------------------------------------------------- world
    def nearest_block(self, name: str) -> tuple[int, int, int] | None:
        """The lowest block of the nearest column of ``name`` (reachable from the ground), or ``None``."""
        p = self.env.world.player
        cells = [c for c, b in self.env.world.blocks.items() if b == name]
        if not cells:
            return None
        return min(cells, key=lambda c: (round(math.hypot(c[0] + 0.5 - p.x, c[2] + 0.5 - p.z), 3), c[1]))

    def nearest_mob(self, kind: str) -> Mob | None:
        """The nearest living mob of ``kind``, or ``None``."""
        p = self.env.world.player
        mobs = [m for m in self.env.world.mobs if m.kind == kind]
        return min(mobs, key=lambda m: math.hypot(m.x - p.x, m.z - p.z)) if mobs else None

    def pursue(self, goal: SubGoal) -> CanonicalAction:
        """One tick towards a ``mine`` or ``kill`` sub-goal: turn, walk into reach, attack."""
        world = self.env.world
        to = world.bearing_to(cast("tuple[int, int, int] | int", goal.target))
        if to is None:
            return CanonicalAction()
        bearing, horizontal = to.dyaw, to.horizontal
        dpitch, dyaw = _clip(to.dpitch, self.max_turn_deg), _clip(bearing, self.max_turn_deg)
        aimed = abs(bearing) <= self.walk_cone_deg
        hit = world.raycast()
        on_target = hit is not None and (
            (goal.kind == "mine" and hit.cell == goal.target) or (goal.kind == "kill" and hit.mob_id == goal.target)
        )
        buttons: set[Button] = set()
        if on_target:
            buttons.add("attack")
        elif hit is not None and hit.kind == "block" and abs(bearing) < 5 and hit.distance < horizontal:
            buttons.add("attack")  # something is in the way: dig through it
        elif aimed and horizontal > (2.0 if goal.kind == "mine" else 1.8):
            buttons.add("forward")
            if horizontal > 4 and goal.kind == "kill":
                buttons.add("sprint")
            if self._is_stuck():
                buttons.add("jump")
                buttons.add("left" if (world.tick // 40) % 2 else "right")
        return CanonicalAction(buttons=frozenset(buttons), camera=(dpitch, dyaw))

    def _is_stuck(self) -> bool:
        p = self.env.world.player
        pos = (round(p.x, 3), round(p.z, 3))
        self._stuck = self._stuck + 1 if pos == self._last_pos else 0
        self._last_pos = pos
        return self._stuck > 3

    # ------------------------------------------------------------------------------------- GUI
    def _craft_plan(self) -> list[SubGoal]:
        """Clicks that lay out the recipe in the grid and take the product."""
        env = self.env
        assert env.screen is not None
        book = env.book
        recipe = book.recipe_for(env.task.target)
        side = env.screen.grid_side
        if recipe.pattern is not None:
            cells = [
                (r * side + c, spec)
                for r, row in enumerate(recipe.cells())
                for c, spec in enumerate(row)
                if spec is not None
            ]
        else:
            cells = list(enumerate(recipe.ingredients or ()))
        plan: list[SubGoal] = []
        inventory = env.world.player.inventory
        by_item: dict[str, list[int]] = {}
        for cell, spec in cells:
            item = next(s.item for s in inventory.slots if s is not None and book.accepts(spec, s.item))
            by_item.setdefault(item, []).append(cell)
        for item, cells_of_item in by_item.items():
            # one stack after another (an unstackable ingredient, a bucket, sits in a slot of its own)
            sources = [(k, s.count) for k, s in enumerate(inventory.slots) if s is not None and s.item == item]
            grid_cells = list(cells_of_item)
            for source, count in sources:
                placed, grid_cells = grid_cells[:count], grid_cells[count:]
                plan.append(SubGoal("click", SlotRef("inventory", source), item, "left"))
                plan += [SubGoal("click", SlotRef("grid", cell), item, "right") for cell in placed]
                plan.append(SubGoal("click", SlotRef("inventory", source), item, "left"))  # put the rest back
                if not grid_cells:
                    break
        plan.append(SubGoal("click", SlotRef("result", 0), recipe.result, "left"))
        return plan

    def _click(self, goal: SubGoal) -> CanonicalAction:
        env = self.env
        assert env.screen is not None and isinstance(goal.target, SlotRef)
        tx, ty = env.screen.slot_centre(goal.target)
        cx, cy = env.cursor
        if abs(tx - cx) < 0.5 and abs(ty - cy) < 0.5:
            if not self._released:
                self._released = True
                return CanonicalAction()
            self._released = False
            assert self._plan is not None
            self._plan.pop(0)
            if not self._plan:
                self._plan = [goal]  # the product may not be taken (full cursor): keep clicking
            key: Button = "attack" if goal.button == "left" else "use"
            return CanonicalAction(buttons=frozenset({key, "sneak"} if goal.shift else {key}))
        self._released = True
        limit = self.max_cursor_deg
        return CanonicalAction(
            camera=(_clip((ty - cy) / GUI_PX_PER_DEGREE, limit), _clip((tx - cx) / GUI_PX_PER_DEGREE, limit))
        )


def solve(env: CraftWorld, seed: int, max_ticks: int | None = None) -> bool:
    """Reset ``env`` with ``seed`` and let the expert play; whether the task succeeded."""
    env.reset(seed=seed)
    for _ in Expert(env).run(max_ticks):
        pass
    return env.counters[env.task.category][env.task.target] > 0
