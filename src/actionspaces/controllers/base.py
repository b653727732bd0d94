"""The controller protocol: a high-level action plus the env's state, turned into env actions tick by tick."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from ..canonical import CanonicalAction

if TYPE_CHECKING:
    from ..envs.craftworld import CraftWorld

__all__ = ["Controller", "Execution", "execute", "release_first"]

A = TypeVar("A", bound=BaseModel)

# Keys that act once on the 0→1 edge; in a GUI, attack (left click) does too.
_EDGE_KEYS = frozenset({"use", "inventory", "ESC", "drop", "swapHands"})
_CLICK_KEYS = frozenset({"attack"})


class Controller(ABC, Generic[A]):
    """Executes one action of a space over one or more ticks.

    ``start(action, env)`` begins an execution; each ``step(env)`` returns the next tick's env action
    and whether it is the last one. One model call is one action, so a controller decides how many ticks
    a call is worth.

    Examples:
        >>> from actionspaces import MotionSpace
        >>> from actionspaces.envs import CraftWorld
        >>> from actionspaces.controllers import MotionController
        >>> env = CraftWorld("mine_block:oak_log"); _ = env.reset(seed=0)
        >>> run = execute(MotionController(), MotionSpace().parse("Motion: turn right"), env)
        >>> run.ticks, round(env.world.player.yaw - run.start_yaw, 6)
        (4, 20.0)
    """

    #: The name of the space whose actions this controller executes.
    space: ClassVar[str]

    @abstractmethod
    def start(self, action: A, env: CraftWorld) -> None:
        """Begin executing ``action`` from the env's current state."""

    @abstractmethod
    def step(self, env: CraftWorld) -> tuple[CanonicalAction, bool]:
        """The next tick's env action, and ``True`` when it is the last tick of this action."""


def release_first(env: CraftWorld, action: CanonicalAction) -> CanonicalAction | None:
    """A no-op tick when ``action`` presses an edge-triggered key the env still holds, else ``None``.

    Clicks in a GUI, ``use`` on a block and the toggles fire on the 0→1 edge: a key held on the previous
    tick must be released for one tick before it can fire again.
    """
    edge_keys = _EDGE_KEYS | _CLICK_KEYS if env.screen is not None else _EDGE_KEYS
    if action.buttons & env.held_keys & edge_keys:
        return CanonicalAction()
    return None


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


def execute(controller: Controller[Any], action: BaseModel, env: CraftWorld, max_ticks: int | None = None) -> Execution:
    """Run ``action`` through ``controller`` until it finishes, the episode ends, or ``max_ticks`` pass."""
    run = Execution(start_yaw=env.world.player.yaw)
    controller.start(action, env)
    while max_ticks is None or run.ticks < max_ticks:
        tick, done = controller.step(env)
        run.obs, reward, run.terminated, run.truncated, run.info = env.step(tick)
        run.ticks += 1
        run.reward += reward
        if done or run.terminated or run.truncated:
            break
    return run
