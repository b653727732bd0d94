"""The grounding controller: act on the object at a point, in the world or in a GUI."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

from ..canonical import Button, CanonicalAction
from ..spaces import GroundingAction, GroundingSpace
from ..state import angle_to, wrap_degrees
from .base import Controller, release_first

if TYPE_CHECKING:
    from ..envs.craftworld import CraftWorld
    from ..envs.craftworld.world import Hit

__all__ = ["GroundingController"]


class GroundingController(Controller[GroundingAction]):
    """Acts on whatever is at the point: an object in the world, or a slot in a GUI.

    In the world it finds the object seen at the point and turns, walks and mines or attacks it until it
    is gone or ``budget`` ticks pass. In a GUI it moves the cursor to the point (≤ ``max_turn_deg`` per
    tick, 6.667 px per degree) and clicks.

    ``Approach`` walks until the object is within ``approach_distance``; ``right click`` uses it once in
    reach; ``move to`` only turns (or moves the cursor); ``Explore`` walks forward for ``explore_ticks``;
    ``no-op`` waits one tick. A point that shows no object only turns the view towards it.

    Examples:
        >>> from actionspaces.envs import CraftWorld
        >>> from actionspaces.controllers import execute
        >>> env = CraftWorld("craft_item:stick"); _ = env.reset(seed=0)
        >>> space = GroundingSpace()
        >>> action = space.parse("Grounding: Mine <|point_start|>(600,500)<|point_end|>")
        >>> run = execute(GroundingController(space), action, env)
        >>> run.ticks, env.cursor[0] > 320
        (2, True)
    """

    space = "grounding"

    def __init__(
        self,
        grounding: GroundingSpace | None = None,
        *,
        budget: int = 200,
        approach_distance: float = 2.0,
        explore_ticks: int = 20,
    ) -> None:
        if budget < 1 or explore_ticks < 1:
            raise ValueError("budget and explore_ticks must be >= 1")
        self.grounding = grounding or GroundingSpace()
        self.budget = budget
        self.approach_distance = approach_distance
        self.explore_ticks = explore_ticks
        self._action: GroundingAction | None = None
        self._target: Hit | None = None
        self._direction: tuple[float, float] | None = None  # (pitch, yaw) towards an empty point
        self._ticks = 0

    def start(self, action: GroundingAction, env: CraftWorld) -> None:
        """Pick the object under the point (world) or the pixel to click (GUI)."""
        self._action, self._ticks, self._target, self._direction = action, 0, None, None
        command = action.commands[0]
        target = command.target
        if env.screen is None and target is not None:
            px, py = target.to_pixels(env.camera.width, env.camera.height)
            self._target = env.object_at(px + 0.5, py + 0.5)
            if self._target is None:  # nothing there: remember the absolute direction of the point
                p, f = env.world.player, env.camera.focal
                yaw = math.degrees(math.atan2(px + 0.5 - env.camera.width / 2, f))
                pitch = math.degrees(math.atan2(py + 0.5 - env.camera.height / 2, f))
                self._direction = (p.pitch + pitch, p.yaw + yaw)

    def step(self, env: CraftWorld) -> tuple[CanonicalAction, bool]:
        """One tick towards the point's object."""
        if self._action is None:
            raise RuntimeError("GroundingController.step before start")
        self._ticks += 1
        out_of_budget = self._ticks >= self.budget
        command = self._action.commands[0]
        if command.verb == "noop":
            return CanonicalAction(), True
        if command.verb == "explore":
            return CanonicalAction(buttons=frozenset({"forward"})), self._ticks >= self.explore_ticks or out_of_budget
        if env.screen is not None:
            tick = self.grounding.canonicalize(self._action, env.view_state())
            clicks = tick.buttons & {"attack", "use"}
            if clicks and (release := release_first(env, tick)) is not None:
                return release, False
            return tick, bool(clicks) or (command.verb == "move_to" and tick.camera == (0.0, 0.0)) or out_of_budget
        if self._ticks == 1:  # the first tick is the space's g: turn towards the point, act when aimed
            return self.grounding.canonicalize(self._action, env.view_state()), out_of_budget
        return self._world_step(env, command.verb, out_of_budget)

    def _world_step(self, env: CraftWorld, verb: str, out_of_budget: bool) -> tuple[CanonicalAction, bool]:
        world = env.world
        p = world.player
        target = self._target
        if target is None:
            if self._direction is None:
                return CanonicalAction(), True
            pitch, yaw = self._direction
            return self._turn(p.pitch, p.yaw, pitch, yaw, set(), done_when_aimed=True, out=out_of_budget)
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
            return self._turn(p.pitch, p.yaw, pitch, yaw, buttons, done_when_aimed=True, out=out_of_budget)
        if verb == "approach":
            if distance <= self.approach_distance:
                return CanonicalAction(), True
            buttons.add("forward")
            return self._turn(p.pitch, p.yaw, pitch, yaw, buttons, done_when_aimed=False, out=out_of_budget)
        if on_target:
            if verb == "right_click":
                tick = CanonicalAction(buttons=frozenset({"use"}))
                release = release_first(env, tick)
                return (release, False) if release is not None else (tick, True)
            buttons.add("attack")
        elif abs(wrap_degrees(yaw - p.yaw)) < 25 and distance > 2.0:
            buttons.add("forward")
            if distance > 4.0:
                buttons.add("sprint")
        return self._turn(p.pitch, p.yaw, pitch, yaw, buttons, done_when_aimed=False, out=out_of_budget)

    def _turn(
        self,
        pitch: float,
        yaw: float,
        to_pitch: float,
        to_yaw: float,
        buttons: set[Button],
        *,
        done_when_aimed: bool,
        out: bool,
    ) -> tuple[CanonicalAction, bool]:
        limit = self.grounding.max_turn_deg
        dp = max(-limit, min(limit, to_pitch - pitch))
        dy = max(-limit, min(limit, wrap_degrees(to_yaw - yaw)))
        aimed = abs(to_pitch - pitch) <= limit and abs(wrap_degrees(to_yaw - yaw)) <= limit
        return CanonicalAction(buttons=frozenset(buttons), camera=(dp, dy)), (done_when_aimed and aimed) or out
