"""Controllers: how each action space's actions are executed in an environment, tick by tick.

Every controller implements :class:`Controller` (``start(action, state)``, then ``step(state)`` until it
says done) and reads only a :class:`~actionspaces.state.ControlState`, so it runs on any env that
provides ``control_state()``; :func:`execute` runs one action to completion. The defaults: raw one tick,
motion four ticks, grounding turns to the point and acts for a fixed budget, latent codes four ticks each,
and language through a learned :class:`SkillPolicy` when one is given. CraftWorld's privileged
controllers (exact segmentation, scripted skills) are its oracles, in
:mod:`actionspaces.envs.craftworld.oracles`.
"""

from typing import Any

from ..spaces import GroundingSpace, MotionSpace, RawSpace
from .base import Controller, Execution, execute, release_first, state_reader
from .grounding import GroundingController, PointingPolicy
from .latent import LatentCodebook, LatentController
from .simple import MotionController, RawController
from .skill import SkillPolicy, SkillPolicyController

__all__ = [
    "Controller",
    "Execution",
    "GroundingController",
    "LatentCodebook",
    "LatentController",
    "MotionController",
    "PointingPolicy",
    "RawController",
    "SkillPolicy",
    "SkillPolicyController",
    "default_controllers",
    "execute",
    "release_first",
    "state_reader",
]


def default_controllers(
    *,
    raw: RawSpace | None = None,
    motion: MotionSpace | None = None,
    grounding: GroundingSpace | None = None,
    codebook: LatentCodebook | None = None,
    skill_policy: SkillPolicy | None = None,
    pointer: PointingPolicy | None = None,
) -> dict[str, Controller[Any]]:
    """One non-privileged controller per space: latent with a codebook, language with a skill policy.

    Examples:
        >>> sorted(default_controllers())
        ['grounding', 'motion', 'raw']
    """
    controllers: dict[str, Controller[Any]] = {
        "raw": RawController(raw),
        "motion": MotionController(motion),
        "grounding": GroundingController(grounding, pointer=pointer),
    }
    if codebook is not None:
        controllers["latent"] = LatentController(codebook)
    if skill_policy is not None:
        controllers["language"] = SkillPolicyController(skill_policy)
    return controllers
