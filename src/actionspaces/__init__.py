"""actionspaces: typed, grammar-based action spaces for agents that act by writing text.

Parse what a vision-language-action model writes into typed actions, map any action space onto the
canonical MineRL env action, and judge actions with one action-space-independent comparator.

Examples:
    >>> import actionspaces as asp
    >>> text = "Grounding: Mine <|point_start|>(500,500)<|point_end|>\\nAction: move(0, 0) and press() and click(left)"
    >>> chain = asp.parse(text)
    >>> chain.executable.space, sorted(asp.RawSpace().canonicalize(chain.executable.action).buttons)
    ('raw', ['attack'])
"""

from .camera import OPENHA_CAMERA, VPT_CAMERA, CameraQuantizer
from .canonical import BUTTONS, CAMERA_SCALER, Button, CanonicalAction
from .chain import Chain, ChainSpace, Level, parse
from .equivalence import equivalent
from .errors import ActionSpacesError, CanonicalizeError, ParseError
from .gym_ids import register_envs
from .space import ActionSpace
from .spaces import (
    ChunkDecoder,
    GroundingAction,
    GroundingCommand,
    GroundingSpace,
    LanguageAction,
    LanguageSpace,
    LatentAction,
    LatentSpace,
    MotionAction,
    MotionSpace,
    Point,
    RawAction,
    RawSpace,
)
from .state import ViewState
from .vpt import VPTTokenizer

__version__ = "0.1.0"

register_envs()  # gymnasium.make("actionspaces/CraftWorld-v0") works once actionspaces is imported

__all__ = [
    "BUTTONS",
    "CAMERA_SCALER",
    "OPENHA_CAMERA",
    "VPT_CAMERA",
    "ActionSpace",
    "ActionSpacesError",
    "Button",
    "CameraQuantizer",
    "CanonicalAction",
    "CanonicalizeError",
    "Chain",
    "ChainSpace",
    "ChunkDecoder",
    "GroundingAction",
    "GroundingCommand",
    "GroundingSpace",
    "LanguageAction",
    "LanguageSpace",
    "LatentAction",
    "LatentSpace",
    "Level",
    "MotionAction",
    "MotionSpace",
    "ParseError",
    "Point",
    "RawAction",
    "RawSpace",
    "VPTTokenizer",
    "ViewState",
    "__version__",
    "equivalent",
    "parse",
]
