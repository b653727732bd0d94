"""The controller protocol: a high-level action plus the env's state, turned into env actions tick by tick.

A controller reads only a :class:`~actionspaces.state.ControlState` (what a player could know: the GUI
flag, the cursor, the view angles, the keys held, the frame), so it drives any env that provides one.
:func:`execute` is the one loop that runs an action to completion; ``TextActionEnv`` and the labellers'
check both use it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import gymnasium as gym
from pydantic import BaseModel

from ..canonical import CanonicalAction
from ..state import ControlState

__all__ = ["Controller", "Execution", "execute", "release_first", "state_reader"]

A = TypeVar("A", bound=BaseModel)

# Keys that act once on the 0→1 edge; in a GUI, attack (left click) does too.
_EDGE_KEYS = frozenset({"use", "inventory", "ESC", "drop", "swapHands"})
_CLICK_KEYS = frozenset({"attack"})


class Controller(ABC, Generic[A]):
    """Executes one action of a space over one or more ticks.

    ``start(action, state)`` begins an execution; each ``step(state)`` returns the next tick's env action
    and whether it is the last one. One model call is one action, so a controller decides how many ticks
    a call is worth. A controller that draws random numbers reseeds them in :meth:`reset`.

    Examples:
        >>> from actionspaces import MotionSpace
        >>> from actionspaces.envs import CraftWorld
        >>> from actionspaces.controllers import MotionController
        >>> env = CraftWorld("mine_block:oak_log"); _ = env.reset(seed=0)
        >>> run = execute(MotionController(), MotionSpace().parse("Motion: turn right"), env)
        >>> run.ticks, round(env.control_state().yaw - run.start_yaw, 6)
        (4, 20.0)
    """

    #: The name of the space whose actions this controller executes.
    space: ClassVar[str]

    @abstractmethod
    def start(self, action: A, state: ControlState) -> None:
        """Begin executing ``action`` from ``state``."""

    @abstractmethod
    def step(self, state: ControlState) -> tuple[CanonicalAction, bool]:
        """The next tick's env action, and ``True`` when it is the last tick of this action."""

    def reset(self, seed: int | None) -> None:
        """Called when the env is reset with ``seed``, so that episodes replay exactly (no-op by default)."""


def release_first(state: ControlState, action: CanonicalAction) -> CanonicalAction | None:
    """A no-op tick when ``action`` presses an edge-triggered key the env still holds, else ``None``.

    Clicks in a GUI, ``use`` on a block and the toggles fire on the 0→1 edge: a key held on the previous
    tick must be released for one tick before it can fire again.
    """
    edge_keys = _EDGE_KEYS | _CLICK_KEYS if state.gui_open else _EDGE_KEYS
    if action.buttons & state.held_keys & edge_keys:
        return CanonicalAction()
    return None


def state_reader(env: gym.Env[Any, Any]) -> Callable[[], ControlState]:
    """``env``'s ``control_state`` method, found once (through wrappers) for a loop that reads it every tick.

    Raises:
        TypeError: ``env`` has no ``control_state()``.
    """
    try:
        method = env.get_wrapper_attr("control_state") if isinstance(env, gym.Env) else env.control_state
    except AttributeError:
        raise TypeError(
            f"{type(env).__name__} does not provide control_state(), which controllers read (the StateProvider "
            "protocol of actionspaces.state); CraftWorld and MineStudioEnv do"
        ) from None

    def read() -> ControlState:
        state = method()
        if not isinstance(state, ControlState):
            raise TypeError(f"{type(env).__name__}.control_state() returned {type(state).__name__}, not a ControlState")
        return state

    return read


@dataclass
class Execution:
    """What running one action did: ticks used, reward gained, whether the episode ended, the last info."""

    ticks: int = 0
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    obs: dict[str, Any] = field(default_factory=dict)
    start_yaw: float = 0.0


def execute(
    controller: Controller[Any], action: BaseModel, env: gym.Env[Any, Any], max_ticks: int | None = None
) -> Execution:
    """Run ``action`` through ``controller`` until it finishes, the episode ends, or ``max_ticks`` pass.

    ``env`` is any gymnasium env (wrapped or not) that provides ``control_state()``.
    """
    read = state_reader(env)
    state = read()
    run = Execution(start_yaw=state.yaw)
    controller.start(action, state)
    while max_ticks is None or run.ticks < max_ticks:
        tick, done = controller.step(state)
        run.obs, reward, run.terminated, run.truncated, run.info = env.step(tick)
        run.ticks += 1
        run.reward += float(reward)
        if done or run.terminated or run.truncated:
            break
        state = read()
    return run
