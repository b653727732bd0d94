"""Controllers: how each action space's actions are executed in an environment, tick by tick.

Every controller implements :class:`Controller` (``start(action, env)``, then ``step(env)`` until it
says done); :func:`execute` runs one action to completion. The defaults are craftworld.md's: raw one
tick, motion four ticks, grounding up to 200 ticks towards the point's object, skills up to 300 ticks
with a 20 % failure rate, latent codes four ticks each.
"""

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
    "execute",
    "parse_skill",
    "release_first",
]
