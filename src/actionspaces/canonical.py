"""The canonical action: one MineRL 1.0 env tick.

Every action space maps onto this one type, so one reward can judge what was done whatever the wording.
It carries the 23 binary keys of MineRL 1.0's ``HumanControlEnvSpec`` (as *held states*: the env fires
toggles such as ``inventory`` on the 0→1 edge) and ``camera = [pitch, yaw]`` in float degrees, where
+pitch looks down and +yaw turns right.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, cast, get_args

import numpy as np
from gymnasium import spaces
from pydantic import BaseModel, ConfigDict, field_validator

__all__ = [
    "BUTTONS",
    "CAMERA_LIMIT_DEG",
    "CAMERA_SCALER",
    "HOTBAR",
    "Button",
    "CanonicalAction",
]

Button = Literal[
    "ESC",
    "attack",
    "back",
    "drop",
    "forward",
    "hotbar.1",
    "hotbar.2",
    "hotbar.3",
    "hotbar.4",
    "hotbar.5",
    "hotbar.6",
    "hotbar.7",
    "hotbar.8",
    "hotbar.9",
    "inventory",
    "jump",
    "left",
    "pickItem",
    "right",
    "sneak",
    "sprint",
    "swapHands",
    "use",
]

#: The 23 MineRL 1.0 buttons, in the (alphabetical) order of ``env.action_space``.
BUTTONS: tuple[Button, ...] = get_args(Button)
#: ``hotbar.1`` … ``hotbar.9``; ``HOTBAR[i - 1]`` selects slot ``i``.
HOTBAR: tuple[Button, ...] = tuple(b for b in BUTTONS if b.startswith("hotbar."))
_BUTTON_SET = frozenset(BUTTONS)

#: Degrees of camera rotation per mouse unit (MineRL ``mc.CAMERA_SCALER = 360 / 2400``).
CAMERA_SCALER = 360 / 2400

#: Per-tick camera bound of the MineRL env's ``Box`` (degrees).
CAMERA_LIMIT_DEG = 180.0


class CanonicalAction(BaseModel):
    """One MineRL 1.0 env action: the set of pressed buttons and a camera delta in degrees.

    Immutable and hashable. Build it directly, from an env dict with :meth:`from_env`, or get it from any
    action space's ``canonicalize``.

    Examples:
        >>> a = CanonicalAction(buttons={"forward", "attack"}, camera=(0.0, 2.85))
        >>> a.to_env()["forward"], a.to_env()["camera"].tolist()
        (1, [0.0, 2.8499999046325684])
        >>> CanonicalAction.from_env({"attack": 1}) == CanonicalAction(buttons={"attack"})
        True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    buttons: frozenset[Button] = frozenset()
    camera: tuple[float, float] = (0.0, 0.0)

    @field_validator("camera")
    @classmethod
    def _finite_camera(cls, value: tuple[float, float]) -> tuple[float, float]:
        for name, v in zip(("pitch", "yaw"), value, strict=True):
            if not math.isfinite(v):
                raise ValueError(f"camera {name} must be finite, got {v!r}")
            if abs(v) > CAMERA_LIMIT_DEG:
                raise ValueError(f"camera {name} {v!r} is outside the env bound ±{CAMERA_LIMIT_DEG:g}°")
        return (float(value[0]), float(value[1]))

    @classmethod
    def noop(cls) -> CanonicalAction:
        """The null action: nothing pressed, camera ``[0, 0]``."""
        return _NOOP

    @property
    def is_noop(self) -> bool:
        """True when nothing is pressed and the camera does not move."""
        return not self.buttons and self.camera == (0.0, 0.0)

    def pressed(self, button: str) -> bool:
        """Whether ``button`` is held on this tick; raises ``KeyError`` for a name MineRL does not have."""
        if button not in _BUTTON_SET:
            raise KeyError(f"unknown MineRL button {button!r}; valid: {', '.join(BUTTONS)}")
        return button in self.buttons

    def replace(self, **changes: Any) -> CanonicalAction:
        """A copy with some fields changed, validated again."""
        return CanonicalAction.model_validate({**self.model_dump(), **changes})

    def to_env(self) -> dict[str, Any]:
        """The full 24-key MineRL 1.0 env dict: ``int`` 0/1 buttons and a float32 ``camera`` array."""
        env: dict[str, Any] = {b: int(b in self.buttons) for b in BUTTONS}
        env["camera"] = np.asarray(self.camera, dtype=np.float32)
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, Any]) -> CanonicalAction:
        """Read an env action dict; missing keys mean 0 (released), as on the MineRL wire.

        Raises:
            ValueError: for an unknown key, a button value other than 0/1, or a camera that is not two
                finite numbers within ±180°. The message names the key.
        """
        unknown = env.keys() - _ENV_KEYS
        if unknown:
            raise ValueError(f"unknown env action key(s) {sorted(unknown)!r}; valid: camera, {', '.join(BUTTONS)}")
        try:  # ints, bools and numpy scalars hash and compare as 0 or 1: one dict lookup each
            pressed = [key for key, value in env.items() if key != "camera" and _BINARY[value]]
        except (KeyError, TypeError):  # an array, or a bad value: check each key, naming the bad one
            pressed = [key for key, value in env.items() if key != "camera" and _button_value(key, value)]
        camera = _camera_of(env["camera"]) if "camera" in env else (0.0, 0.0)
        buttons = cast("frozenset[Button]", frozenset(pressed))  # every key is a button: checked above
        # actions repeat (an agent holds forward, turns by the same step): reuse the immutable object
        known = _INTERNED.get((buttons, camera))
        if known is None:
            if len(_INTERNED) >= _INTERN_LIMIT:
                _INTERNED.clear()
            # every field was checked above: skip pydantic's second pass (this runs once per env tick)
            known = _INTERNED[(buttons, camera)] = cls.model_construct(buttons=buttons, camera=camera)
        return known

    @staticmethod
    def space() -> spaces.Dict:
        """The gymnasium ``Dict`` action space of MineRL 1.0: 23 ``Discrete(2)`` and a ±180° camera ``Box``."""
        items: dict[str, spaces.Space[Any]] = {b: spaces.Discrete(2) for b in BUTTONS}
        items["camera"] = spaces.Box(low=-CAMERA_LIMIT_DEG, high=CAMERA_LIMIT_DEG, shape=(2,), dtype=np.float32)
        return spaces.Dict(dict(sorted(items.items())))

    def __repr__(self) -> str:
        keys = ", ".join(b for b in BUTTONS if b in self.buttons)
        return f"CanonicalAction(buttons={{{keys}}}, camera=({self.camera[0]:g}, {self.camera[1]:g}))"


_NOOP = CanonicalAction()
_BINARY = {0: False, 1: True}
_INTERNED: dict[tuple[frozenset[Button], tuple[float, float]], CanonicalAction] = {}
_INTERN_LIMIT = 4096
_ENV_KEYS = frozenset({*BUTTONS, "camera"})


def _button_value(key: str, value: Any) -> bool:
    """Whether the button ``key`` is pressed, from any value numpy reads as a single 0 or 1."""
    try:
        flat = np.asarray(value).reshape(-1)
    except (TypeError, ValueError):
        flat = np.zeros(0)
    if flat.size != 1 or flat[0] not in (0, 1):
        raise ValueError(f"env action key {key!r} must be 0 or 1, got {value!r}")
    return bool(flat[0])


def _camera_of(value: Any) -> tuple[float, float]:
    """``[pitch, yaw]`` of an env action's camera, checked: two finite numbers within the env's bound."""
    try:  # a list, a tuple or an array of two numbers, without numpy's per-call overhead
        items = value.reshape(-1).tolist() if isinstance(value, np.ndarray) else list(value)
        if len(items) != 2:
            raise ValueError
        pitch, yaw = float(items[0]), float(items[1])
    except (TypeError, ValueError):  # anything else numpy reads as two numbers ([[p], [y]] …)
        try:
            raw = np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raw = np.zeros(0)
        if raw.size != 2:
            raise ValueError(f"env action key 'camera' must hold [pitch, yaw], got {value!r}") from None
        pitch, yaw = float(raw[0]), float(raw[1])
    if not (math.isfinite(pitch) and math.isfinite(yaw)):
        raise ValueError(f"env action key 'camera' must be finite, got {[pitch, yaw]!r}")
    if abs(pitch) > CAMERA_LIMIT_DEG or abs(yaw) > CAMERA_LIMIT_DEG:
        raise ValueError(f"env action key 'camera' {[pitch, yaw]!r} is outside the env bound ±{CAMERA_LIMIT_DEG:g}°")
    return pitch, yaw
