"""OpenHA's raw-action decoder (``TextActionTokenizer._text_to_env``), reproduced from its description.

Use it to see what OpenHA would have executed for a text, e.g. to compare with :class:`RawSpace`, which
fixes its defects (openha-formats.md §7 B3, B4): this decoder returns a null action for anything it does
not understand, reports nothing, keeps only the last ``Action:`` segment, the first ``move``, the first
``press``, drops double-quoted and unknown keys, ``click(middle)`` and ``, ``-joined clicks.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..canonical import CAMERA_SCALER
from ..equivalence import OPENHA_NULL_KEYS

__all__ = ["openha_decode_raw"]

_SEGMENT = re.compile(r"Action:(.*?)(?=\n|Action:|$)", re.DOTALL)
_NUM = r"""['"]?\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*['"]?"""
_MOVE = re.compile(rf"move\(\s*{_NUM}\s*,\s*{_NUM}\s*\)")
_PRESS = re.compile(r"press\(([^)]*)\)")
_SPLIT_AND = re.compile(r"\s*and\s*")
_CLICK = re.compile(r"""click\(\s*['"]?(\w+)['"]?\s*\)""")
_KEYS = {
    "w": "forward", "s": "back", "a": "left", "d": "right", "space": "jump", "left.shift": "sneak",
    "left.control": "sprint", "e": "inventory", "q": "drop", "f": "swapHands", "escape": "ESC",
    **{str(i): f"hotbar.{i}" for i in range(1, 10)},
}  # fmt: skip
_CLICKS = {"left": "attack", "right": "use"}


def openha_decode_raw(text: str) -> dict[str, Any]:
    """Decode ``text`` the way OpenHA's reference parser does: always a dict, never an error.

    The dict has OpenHA's null-action keys (0/1 ints), ``camera`` as a float64 ``[pitch, yaw]`` array, and
    ``ESC``/``swapHands`` only when pressed.

    Examples:
        >>> openha_decode_raw("Action: move(dx='4.0', dy='-1.0') and keyDown(keys=(keyboard.w))")["forward"]
        0
    """
    action: dict[str, Any] = {key: 0 for key in sorted(OPENHA_NULL_KEYS)}
    action["camera"] = np.zeros(2)
    segments = _SEGMENT.findall(text)
    if not segments:
        return action
    segment = segments[-1]
    if "no_op" in segment:
        return action
    move = _MOVE.search(segment)
    if move:
        dx, dy = float(move.group(1)), float(move.group(2))
        action["camera"] = np.array([dy * CAMERA_SCALER, dx * CAMERA_SCALER])
    press = _PRESS.search(segment)
    if press:
        for piece in press.group(1).split(","):
            key = _KEYS.get(piece.strip().strip("'"))
            if key is not None:
                action[key] = 1
    for piece in _SPLIT_AND.split(segment):
        if piece.startswith("click("):
            click = _CLICK.match(piece)
            if click and click.group(1) in _CLICKS:
                action[_CLICKS[click.group(1)]] = 1
    return action
