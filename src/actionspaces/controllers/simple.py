"""Controllers with no planning: raw actions (one tick) and motion primitives (a fixed number of ticks)."""

from __future__ import annotations

from ..canonical import CanonicalAction
from ..spaces import MotionAction, MotionSpace, RawAction, RawSpace
from ..state import ControlState
from .base import Controller, release_first

__all__ = ["MotionController", "RawController"]


class RawController(Controller[RawAction]):
    """One tick: the raw action itself.

    Examples:
        >>> from actionspaces import ViewState
        >>> state = ControlState(view=ViewState(), pitch=0.0, yaw=0.0)
        >>> c = RawController(); c.start(RawSpace().parse("Action: move(20, 0) and press(w)"), state)
        >>> tick, done = c.step(state); sorted(tick.buttons), tick.camera, done
        (['forward'], (0.0, 3.0), True)
    """

    space = "raw"

    def __init__(self, raw: RawSpace | None = None) -> None:
        self.raw = raw or RawSpace()
        self._action: CanonicalAction | None = None

    def start(self, action: RawAction, state: ControlState) -> None:
        """Remember the action's env form."""
        self._action = self.raw.canonicalize(action)

    def step(self, state: ControlState) -> tuple[CanonicalAction, bool]:
        """The action, once."""
        if self._action is None:
            raise RuntimeError("RawController.step before start")
        return self._action, True


class MotionController(Controller[MotionAction]):
    """A fixed-magnitude primitive held for ``ticks`` ticks (default 4): turn 5°/tick, cursor 3°/tick.

    Each tick is the motion space's ``canonicalize`` in the current view, so the first tick is the
    space's g by construction. An edge-triggered key held from the previous call is released first.
    """

    space = "motion"

    def __init__(self, motion: MotionSpace | None = None, ticks: int = 4) -> None:
        if ticks < 1:
            raise ValueError(f"ticks must be >= 1, got {ticks}")
        self.motion = motion or MotionSpace()
        self.ticks = ticks
        self._action: MotionAction | None = None
        self._done = 0

    def start(self, action: MotionAction, state: ControlState) -> None:
        """Begin the primitive."""
        self._action, self._done = action, 0

    def step(self, state: ControlState) -> tuple[CanonicalAction, bool]:
        """One tick of the primitive."""
        if self._action is None:
            raise RuntimeError("MotionController.step before start")
        tick = self.motion.canonicalize(self._action, state.view)
        if self._done == 0 and (release := release_first(state, tick)) is not None:
            return release, False
        self._done += 1
        return tick, self._done >= self.ticks
