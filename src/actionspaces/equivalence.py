"""When do two env actions count as the same? One comparator, with the camera tolerance explicit.

``mode="tolerance"`` (default): the same buttons and each camera component within ``camera_tol_deg``
(or in the same bin of a given quantizer). Symmetric.

``mode="openha_strl"``: CrossAgent's single-step reward rule (``mix_coa.py``) exactly — the camera of both
rounded half-to-even to whole degrees and compared for equality; buttons compared only on the keys of the
ground truth's decoded dict (OpenHA's null-dict keys, plus any other key the ground truth presses), so a
button only the prediction presses outside those keys (``ESC``, ``swapHands``, ``pickItem``) is ignored.
Not symmetric: the second argument is the ground truth.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from .camera import CameraQuantizer
from .canonical import HOTBAR, Button, CanonicalAction

__all__ = ["OPENHA_NULL_KEYS", "equivalent"]

#: The button keys of OpenHA's ``ENV_NULL_ACTION`` (always present in its decoded dicts).
OPENHA_NULL_KEYS: frozenset[Button] = frozenset(
    {
        *HOTBAR,
        "forward", "back", "left", "right", "sprint", "sneak", "use", "drop", "attack", "jump", "inventory",
    }
)  # fmt: skip


def equivalent(
    predicted: CanonicalAction,
    target: CanonicalAction,
    *,
    camera_tol_deg: float = 1e-6,
    quantizer: CameraQuantizer | None = None,
    mode: Literal["tolerance", "openha_strl"] = "tolerance",
) -> bool:
    """Whether ``predicted`` does the same as ``target`` (the ground truth).

    Args:
        predicted: the action to judge.
        target: the reference action.
        camera_tol_deg: largest accepted difference per camera component, in degrees (``tolerance`` mode).
        quantizer: when given, camera components match when they fall in the same bin instead.
        mode: ``"tolerance"`` or ``"openha_strl"`` (see the module docstring).

    Examples:
        >>> a = CanonicalAction(camera=(0.0, 19 * 0.15))   # move(19, 0)
        >>> b = CanonicalAction(camera=(0.0, 2.9))
        >>> equivalent(a, b), equivalent(a, b, camera_tol_deg=0.1), equivalent(a, b, mode="openha_strl")
        (False, True, True)
    """
    for what, action in (("predicted", predicted), ("target", target)):
        if not isinstance(action, CanonicalAction):
            raise TypeError(
                f"{what} must be a CanonicalAction (space.canonicalize(action)), got {type(action).__name__}"
            )
    if mode == "openha_strl":
        keys = OPENHA_NULL_KEYS | target.buttons
        if (predicted.buttons & keys) != (target.buttons & keys):
            return False
        return bool(np.array_equal(np.round(predicted.camera, 0), np.round(target.camera, 0)))
    if mode != "tolerance":
        raise ValueError(f"unknown equivalence mode {mode!r}; use 'tolerance' or 'openha_strl'")
    if predicted.buttons != target.buttons:
        return False
    if quantizer is not None:
        return bool(np.array_equal(quantizer.encode(predicted.camera), quantizer.encode(target.camera)))
    if not (math.isfinite(camera_tol_deg) and camera_tol_deg >= 0):
        raise ValueError(f"camera_tol_deg must be a finite number ≥ 0, got {camera_tol_deg!r}")
    return all(abs(p - t) <= camera_tol_deg for p, t in zip(predicted.camera, target.camera, strict=True))
