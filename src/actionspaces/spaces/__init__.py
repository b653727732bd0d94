"""The five action spaces of CrossHA, one module each."""

from .grounding import GroundingAction, GroundingCommand, GroundingSpace, Point
from .language import LanguageAction, LanguageSpace
from .latent import ChunkDecoder, LatentAction, LatentSpace, latent_token
from .motion import MotionAction, MotionSpace
from .raw import RawAction, RawSpace

__all__ = [
    "ChunkDecoder",
    "GroundingAction",
    "GroundingCommand",
    "GroundingSpace",
    "LanguageAction",
    "LanguageSpace",
    "LatentAction",
    "LatentSpace",
    "MotionAction",
    "MotionSpace",
    "Point",
    "RawAction",
    "RawSpace",
    "latent_token",
]
