"""VPT action tokens: the joint buttons index (8641) and the joint camera index (``n_bins²``, 121 for VPT).

Rules (VPT's ``CameraHierarchicalMapping``), reproduced exactly:

* buttons are factored into groups, in product order: hotbar (none, 1..9), forward/back, left/right,
  sprint/sneak, use, drop, attack, jump, camera-meta; index 8640 is ``inventory``;
* forward+back and left+right cancel to "none"; otherwise the **later** button of a group wins
  (sneak beats sprint, hotbar.2 beats hotbar.1);
* ``inventory`` is exclusive: every other button is dropped and the camera is forced to null;
* camera-meta is on iff the *quantized* camera is not the null bin pair; when it is off, the camera head
  is ignored on decode;
* ``ESC``, ``pickItem`` and ``swapHands`` do not exist in VPT's space.
"""

from __future__ import annotations

from dataclasses import dataclass

from .camera import VPT_CAMERA, CameraQuantizer
from .canonical import HOTBAR, Button, CanonicalAction

__all__ = ["INVENTORY_INDEX", "N_BUTTON_COMBINATIONS", "VPTTokenizer"]

_BINARY_GROUPS: tuple[Button, ...] = ("use", "drop", "attack", "jump")
#: Buttons VPT's factored space cannot express.
UNSUPPORTED_BUTTONS: frozenset[Button] = frozenset({"ESC", "pickItem", "swapHands"})
#: 10·3·3·3·2⁵ joint combinations, plus one for ``inventory``.
N_BUTTON_COMBINATIONS = 8641
INVENTORY_INDEX = 8640


@dataclass(frozen=True)
class VPTTokenizer:
    """Convert canonical actions to VPT ``(buttons, camera)`` token indices and back.

    Args:
        quantizer: the camera quantizer; VPT's 11-bin mu-law by default.

    Examples:
        >>> tok = VPTTokenizer()
        >>> tok.encode(CanonicalAction(buttons={"forward"}, camera=(0.3, -0.3)))
        (289, 70)
        >>> tok.decode(289, 70).buttons == {"forward"}
        True
    """

    quantizer: CameraQuantizer = VPT_CAMERA

    @property
    def n_camera(self) -> int:
        """Size of the joint camera head (``n_bins²``)."""
        return self.quantizer.n_bins**2

    @property
    def null_camera(self) -> int:
        """Joint camera index of the null camera (60 for VPT)."""
        q = self.quantizer
        return q.null_bin * q.n_bins + q.null_bin

    def encode(self, action: CanonicalAction, *, strict: bool = False) -> tuple[int, int]:
        """``(buttons_index, camera_index)`` of an action; the camera is clipped to ±maxval first.

        Args:
            action: the canonical action.
            strict: raise ``ValueError`` instead of dropping ``ESC``/``pickItem``/``swapHands``, which VPT
                cannot express.
        """
        pressed = action.buttons
        if strict and pressed & UNSUPPORTED_BUTTONS:
            raise ValueError(f"VPT tokens cannot express {sorted(pressed & UNSUPPORTED_BUTTONS)}")
        if "inventory" in pressed:
            return INVENTORY_INDEX, self.null_camera
        q = self.quantizer
        pitch_bin, yaw_bin = (int(b) for b in q.encode(action.camera))
        camera_idx = pitch_bin * q.n_bins + yaw_bin
        cam_meta = int(camera_idx != self.null_camera)
        hotbar = max((i + 1 for i, key in enumerate(HOTBAR) if key in pressed), default=0)
        fore_back = _pair("forward", "back", pressed)
        left_right = _pair("left", "right", pressed)
        sprint_sneak = 2 if "sneak" in pressed else int("sprint" in pressed)
        idx = ((hotbar * 3 + fore_back) * 3 + left_right) * 3 + sprint_sneak
        for key in _BINARY_GROUPS:
            idx = idx * 2 + int(key in pressed)
        idx = idx * 2 + cam_meta
        return idx, camera_idx if cam_meta else self.null_camera

    def decode(self, buttons: int, camera: int) -> CanonicalAction:
        """The canonical action of a token pair; the camera head is ignored when camera-meta is off."""
        if not 0 <= buttons < N_BUTTON_COMBINATIONS:
            raise ValueError(f"buttons index must lie in 0..{N_BUTTON_COMBINATIONS - 1}, got {buttons!r}")
        if not 0 <= camera < self.n_camera:
            raise ValueError(f"camera index must lie in 0..{self.n_camera - 1}, got {camera!r}")
        if buttons == INVENTORY_INDEX:
            return CanonicalAction(buttons=frozenset({"inventory"}))
        idx = buttons
        cam_meta, idx = idx % 2, idx // 2
        pressed: set[Button] = set()
        for key in reversed(_BINARY_GROUPS):
            if idx % 2:
                pressed.add(key)
            idx //= 2
        sprint_sneak, idx = idx % 3, idx // 3
        left_right, idx = idx % 3, idx // 3
        fore_back, hotbar = idx % 3, idx // 3
        pressed |= _unpair("sprint", "sneak", sprint_sneak)
        pressed |= _unpair("left", "right", left_right)
        pressed |= _unpair("forward", "back", fore_back)
        if hotbar:
            pressed.add(HOTBAR[hotbar - 1])
        if not cam_meta:
            return CanonicalAction(buttons=frozenset(pressed))
        q = self.quantizer
        pitch_bin, yaw_bin = divmod(camera, q.n_bins)
        return CanonicalAction(
            buttons=frozenset(pressed), camera=(float(q.decode(pitch_bin)), float(q.decode(yaw_bin)))
        )

    def roundtrip(self, action: CanonicalAction) -> CanonicalAction:
        """What an action becomes after a trip through VPT tokens (quantized, VPT's rules applied)."""
        return self.decode(*self.encode(action))


def _pair(first: Button, second: Button, pressed: frozenset[Button]) -> int:
    """Choice index of a two-button group where pressing both cancels: 0 none, 1 first, 2 second."""
    a, b = first in pressed, second in pressed
    return 0 if a == b else (1 if a else 2)


def _unpair(first: Button, second: Button, choice: int) -> set[Button]:
    return {first} if choice == 1 else ({second} if choice == 2 else set())
