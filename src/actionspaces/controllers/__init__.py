"""Controllers: how each action space's actions are executed in an environment, tick by tick.

Every controller implements :class:`Controller` (``start(action, env)``, then ``step(env)`` until it
says done); :func:`execute` runs one action to completion. The defaults are craftworld.md's: raw one
tick, motion four ticks, grounding up to 200 ticks towards the point's object, skills up to 300 ticks
with a 20 % failure rate, latent codes four ticks each.
"""

from typing import Any

from ..spaces import GroundingSpace, MotionSpace, RawSpace
from .base import Controller, Execution, execute, release_first
from .grounding import GroundingController
from .latent import LatentCodebook, LatentController
from .simple import MotionController, RawController
from .skill import SkillController, parse_skill

__all__ = [
    "Controller",
    "Execution",
    "GroundingController",
    "LatentCodebook",
    "LatentController",
    "MotionController",
    "RawController",
    "SkillController",
    "default_controllers",
    "execute",
    "parse_skill",
    "release_first",
]


def default_controllers(
    *,
    raw: RawSpace | None = None,
    motion: MotionSpace | None = None,
    grounding: GroundingSpace | None = None,
    codebook: LatentCodebook | None = None,
    skill_failure_rate: float = 0.2,
    seed: int | None = 0,
) -> dict[str, Controller[Any]]:
    """One controller per space with craftworld.md's defaults (latent only when a codebook is given).

    Examples:
        >>> sorted(default_controllers())
        ['grounding', 'language', 'motion', 'raw']
    """
    controllers: dict[str, Controller[Any]] = {
        "raw": RawController(raw),
        "motion": MotionController(motion),
        "grounding": GroundingController(grounding),
        "language": SkillController(failure_rate=skill_failure_rate, seed=seed),
    }
    if codebook is not None:
        controllers["latent"] = LatentController(codebook)
    return controllers
