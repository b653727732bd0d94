"""The language controller: a learned skill policy (STEVE-1, GROOT) runs a ``Skill:`` phrase tick by tick.

The library ships the protocol and the controller; the policies come from the user or from
:mod:`actionspaces.integrations.minestudio`. CraftWorld's scripted skills, which read the simulator's
state, are its oracle (:class:`actionspaces.envs.craftworld.oracles.OracleSkillController`).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..canonical import CanonicalAction
from ..spaces import LanguageAction
from ..state import ControlState
from .base import Controller

__all__ = ["SkillPolicy", "SkillPolicyController"]


@runtime_checkable
class SkillPolicy(Protocol):
    """A low-level policy that follows a short instruction ("chop a tree") from what it sees.

    ``start`` receives the skill phrase and the state; ``act`` returns the next tick.
    """

    def start(self, instruction: str, state: ControlState) -> None:
        """Begin following ``instruction``."""
        ...

    def act(self, state: ControlState) -> CanonicalAction:
        """The next tick."""
        ...


class SkillPolicyController(Controller[LanguageAction]):
    """Runs a :class:`SkillPolicy` on a ``Skill:`` phrase for ``ticks`` ticks (one model call).

    A learned skill does not say when it is done, so one call is worth a fixed number of ticks: the
    high-level model calls again to continue or change skill.

    Examples:
        >>> from actionspaces import LanguageSpace, ViewState
        >>> class Forward:
        ...     def start(self, instruction, state): self.instruction = instruction
        ...     def act(self, state): return CanonicalAction(buttons=frozenset({"forward"}))
        >>> c = SkillPolicyController(Forward(), ticks=2)
        >>> state = ControlState(view=ViewState(), pitch=0.0, yaw=0.0)
        >>> c.start(LanguageSpace().parse("Skill: chop a tree"), state)
        >>> [c.step(state)[1] for _ in range(2)], c.policy.instruction
        ([False, True], 'chop a tree')
    """

    space = "language"

    def __init__(self, policy: SkillPolicy, *, ticks: int = 100) -> None:
        if not isinstance(policy, SkillPolicy):
            raise TypeError(f"policy must have start(instruction, state) and act(state), got {type(policy).__name__}")
        if ticks < 1:
            raise ValueError(f"ticks must be >= 1, got {ticks}")
        self.policy = policy
        self.ticks = ticks
        self._done = -1

    def start(self, action: LanguageAction, state: ControlState) -> None:
        """Hand the phrase to the policy."""
        self.policy.start(action.text, state)
        self._done = 0

    def step(self, state: ControlState) -> tuple[CanonicalAction, bool]:
        """One tick of the policy."""
        if self._done < 0:
            raise RuntimeError("SkillPolicyController.step before start")
        self._done += 1
        return self.policy.act(state), self._done >= self.ticks
