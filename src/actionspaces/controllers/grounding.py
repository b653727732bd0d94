"""The grounding controller: act on what is at a point, in the world or in a GUI, from the frame's geometry alone.

It knows what a player knows: the point, the window, the field of view, the view angles and the cursor.
It does not know what object is at the point or when it is gone; for that, plug in a learned
:class:`PointingPolicy` (ROCKET-1 through :mod:`actionspaces.integrations.minestudio`). CraftWorld's
oracle, which reads the simulator's exact segmentation, lives with the simulator
(:class:`actionspaces.envs.craftworld.oracles.OracleGroundingController`).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..canonical import Button, CanonicalAction
from ..spaces import GroundingAction, GroundingCommand, GroundingSpace
from ..spaces.grounding import TARGETED_VERBS
from ..state import ControlState, point_direction, wrap_degrees
from .base import Controller, release_first

__all__ = ["GroundingController", "PointingPolicy"]


@runtime_checkable
class PointingPolicy(Protocol):
    """A learned low-level policy that interacts with the object at a point (ROCKET-1's role in CrossHA).

    ``start`` receives the command's verb (``mine``, ``kill``, ``approach``, ``right_click``,
    ``left_click``, ``move_to``), its point in window pixels and the state; ``act`` returns one tick.
    """

    def start(self, verb: str, pixel: tuple[float, float], state: ControlState) -> None:
        """Begin an interaction with the object at ``pixel``."""
        ...

    def act(self, state: ControlState) -> CanonicalAction:
        """The next tick of the interaction."""
        ...


class GroundingController(Controller[GroundingAction]):
    """Acts on whatever is at the point: turns the view to it in the world, moves the cursor to it in a GUI.

    **In a GUI** the cursor moves to the point (≤ ``max_turn_deg`` of the space per tick, at 6.667 px per
    degree) and the verb's button clicks there.

    **In the world** the point becomes a direction through the pinhole model (window size and field of
    view); the view turns to it (≤ ``max_turn_deg`` per tick), then the verb acts for a fixed budget, since
    nothing here sees when the object is gone:

    * ``mine``, ``left click``, ``kill``: hold ``attack`` and walk ``forward`` for ``interact_ticks``;
    * ``approach``: walk ``forward`` for ``approach_ticks``;
    * ``right click``: press ``use`` once; ``move to``: only turn;
    * ``explore``: walk forward for ``explore_ticks``; ``no-op``: wait one tick.

    No call takes more than ``budget`` ticks. With a ``pointer``, world commands go to it instead, for up
    to ``budget`` ticks.

    Examples:
        >>> from actionspaces import ViewState
        >>> space = GroundingSpace()
        >>> action = space.parse("Grounding: Mine <|point_start|>(750,500)<|point_end|>")
        >>> c = GroundingController(space, interact_ticks=2)
        >>> state = ControlState(view=ViewState(), pitch=0.0, yaw=0.0)
        >>> c.start(action, state)
        >>> tick, done = c.step(state); tick.camera[1] > 0, done
        (True, False)
    """

    space = "grounding"

    def __init__(
        self,
        grounding: GroundingSpace | None = None,
        *,
        budget: int = 200,
        interact_ticks: int = 80,
        approach_ticks: int = 20,
        explore_ticks: int = 20,
        pointer: PointingPolicy | None = None,
    ) -> None:
        for name, value in (
            ("budget", budget),
            ("interact_ticks", interact_ticks),
            ("approach_ticks", approach_ticks),
            ("explore_ticks", explore_ticks),
        ):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if pointer is not None and not isinstance(pointer, PointingPolicy):
            raise TypeError(f"pointer must have start(verb, pixel, state) and act(state), got {type(pointer).__name__}")
        self.grounding = grounding or GroundingSpace()
        self.budget = budget
        self.interact_ticks = interact_ticks
        self.approach_ticks = approach_ticks
        self.explore_ticks = explore_ticks
        self.pointer = pointer
        self._action: GroundingAction | None = None
        self._direction: tuple[float, float] | None = None
        self._ticks = 0
        self._acting = 0  # ticks of the verb's interaction so far (world)

    @property
    def command(self) -> GroundingCommand:
        """The command being executed (the first of the action)."""
        if self._action is None:
            raise RuntimeError(f"{type(self).__name__}.step before start")
        return self._action.commands[0]

    def start(self, action: GroundingAction, state: ControlState) -> None:
        """Remember the action; in the world, the direction of its point."""
        self._action, self._ticks, self._acting, self._direction = action, 0, 0, None
        command = action.commands[0]
        if state.gui_open or command.target is None:
            return
        px, py = command.target.to_pixels(state.view.width, state.view.height)
        if self.pointer is not None and command.verb in TARGETED_VERBS:
            self.pointer.start(command.verb, (px + 0.5, py + 0.5), state)
        self.start_world(command, px + 0.5, py + 0.5, state)

    def start_world(self, command: GroundingCommand, px: float, py: float, state: ControlState) -> None:
        """Aim at window pixel ``(px, py)`` in the world: here, its direction through the pinhole model.

        The extension point for a controller that knows more about the point (CraftWorld's oracle
        looks up the object there).
        """
        self._direction = point_direction(state, px, py)

    def step(self, state: ControlState) -> tuple[CanonicalAction, bool]:
        """One tick towards the point."""
        command = self.command
        assert self._action is not None
        self._ticks += 1
        out_of_budget = self._ticks >= self.budget
        if command.verb == "noop":
            return CanonicalAction(), True
        if command.verb == "explore":
            return CanonicalAction(buttons=frozenset({"forward"})), self._ticks >= self.explore_ticks or out_of_budget
        if state.gui_open:
            tick = self.grounding.canonicalize(self._action, state.view)
            clicks = tick.buttons & {"attack", "use"}
            if clicks and (release := release_first(state, tick)) is not None:
                return release, False
            return tick, bool(clicks) or (command.verb == "move_to" and tick.camera == (0.0, 0.0)) or out_of_budget
        if self.pointer is not None and command.verb in TARGETED_VERBS and command.target is not None:
            return self.pointer.act(state), out_of_budget
        if self._ticks == 1:  # the first tick is the space's g: turn towards the point, act when aimed
            return self.grounding.canonicalize(self._action, state.view), out_of_budget
        return self.world_step(state, command.verb, out_of_budget)

    def world_step(self, state: ControlState, verb: str, out_of_budget: bool) -> tuple[CanonicalAction, bool]:
        """One world tick after the first: turn to the point's direction, then the verb for its budget.

        The extension point of the world behaviour (the oracle pursues the object it saw instead).
        """
        if self._direction is None:
            return CanonicalAction(), True
        pitch, yaw = self._direction
        turn, aimed = self.turn_towards(state, pitch, yaw)
        if not aimed and self._acting == 0:
            return CanonicalAction(camera=turn), out_of_budget
        if verb == "move_to":
            return CanonicalAction(camera=turn), True
        if verb == "right_click":
            tick = CanonicalAction(buttons=frozenset({"use"}), camera=turn)
            release = release_first(state, tick)
            return (release, False) if release is not None else (tick, True)
        self._acting += 1
        buttons: set[Button] = {"forward"}
        limit = self.approach_ticks
        if verb != "approach":
            buttons.add("attack")
            limit = self.interact_ticks
        return CanonicalAction(buttons=frozenset(buttons), camera=turn), self._acting >= limit or out_of_budget

    def turn_towards(self, state: ControlState, pitch: float, yaw: float) -> tuple[tuple[float, float], bool]:
        """The camera move (≤ ``max_turn_deg`` per axis) towards ``(pitch, yaw)``, and whether it gets there."""
        limit = self.grounding.max_turn_deg
        dp_full, dy_full = pitch - state.pitch, wrap_degrees(yaw - state.yaw)
        dp = max(-limit, min(limit, dp_full))
        dy = max(-limit, min(limit, dy_full))
        return (dp, dy), abs(dp_full) <= limit and abs(dy_full) <= limit
