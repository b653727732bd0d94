"""Flat-shaded frames of CraftWorld: sky, ground, object boxes far to near, and the GUI with its cursor.

Not realism: enough for a vision-language model to ground on (each object a box of its colour at the
place the text observation reports), rendered with numpy slice fills so hundreds of frames per second
fit on one core.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .additions import color_of
from .catalog import BLOCKS, MOBS
from .gui import PANEL_HEIGHT, PANEL_WIDTH

if TYPE_CHECKING:
    from .env import CraftWorld

__all__ = ["item_color", "render_frame", "save_png"]

_SKY = np.array([135, 185, 245], np.uint8)
_GROUND = np.array([95, 140, 60], np.uint8)
_PANEL = np.array([198, 198, 198], np.uint8)
_SLOT = np.array([139, 139, 139], np.uint8)
_CURSOR = np.array([255, 255, 255], np.uint8)


def item_color(item: str) -> tuple[int, int, int]:
    """A stable colour per item: the block's or mob's own, else :func:`~.additions.color_of` its name."""
    if item in BLOCKS:
        return BLOCKS[item].color
    if item in MOBS:
        return MOBS[item].color
    return color_of(item)


def _fill(frame: np.ndarray, box: tuple[float, float, float, float], color: object) -> None:
    x0, y0, x1, y1 = box
    h, w = frame.shape[:2]
    a, b = max(0, math.floor(x0)), min(w, math.ceil(x1))
    c, d = max(0, math.floor(y0)), min(h, math.ceil(y1))
    if a < b and c < d:
        frame[c:d, a:b] = color


def render_frame(env: CraftWorld) -> np.ndarray:
    """The frame the player sees now (``height × width × 3`` uint8)."""
    cam = env.camera
    w, h = cam.width, cam.height
    frame = np.empty((h, w, 3), np.uint8)
    player = env.world.player
    # horizon: where directions of zero elevation project, given the pitch
    horizon = h / 2 - cam.focal * math.tan(math.radians(min(89.0, max(-89.0, player.pitch))))
    split = min(h, max(0, round(horizon)))
    frame[:split] = _SKY
    frame[split:] = _GROUND
    objects = env.visible_objects(every_block=True)
    for obj in reversed(objects):  # far to near: nearer boxes paint over
        shade = max(0.45, 1.0 - obj.distance / 24.0)
        color = (np.array(item_color(obj.name)) * shade).astype(np.uint8)
        _fill(frame, obj.box, color)
    if env.screen is not None:
        _draw_gui(env, frame)
    return frame


def _draw_gui(env: CraftWorld, frame: np.ndarray) -> None:
    screen = env.screen
    assert screen is not None
    ox, oy = screen.origin
    np.right_shift(frame, 1, out=frame)  # the world dims (halves) behind a screen, as in the game
    _fill(frame, (ox, oy, ox + PANEL_WIDTH, oy + PANEL_HEIGHT), _PANEL)
    inventory = env.world.player.inventory
    recipe = screen.result()
    for ref in screen.slots():
        cx, cy = screen.slot_centre(ref)
        _fill(frame, (cx - 8, cy - 8, cx + 8, cy + 8), _SLOT)
        if ref.area == "grid":
            stack = screen.grid[ref.index]
            item = stack.item if stack is not None else None
        elif ref.area == "inventory":
            stack = inventory.slots[ref.index]
            item = stack.item if stack is not None else None
        else:
            item = recipe.result if recipe is not None else None
        if item is not None:
            _fill(frame, (cx - 6, cy - 6, cx + 6, cy + 6), item_color(item))
    x, y = env.cursor
    if screen.cursor is not None:
        _fill(frame, (x - 6, y - 6, x + 6, y + 6), item_color(screen.cursor.item))
    # the 16 px cursor: a white outline square centred on the pointer
    _fill(frame, (x - 8, y - 8, x + 8, y - 6), _CURSOR)
    _fill(frame, (x - 8, y + 6, x + 8, y + 8), _CURSOR)
    _fill(frame, (x - 8, y - 8, x - 6, y + 8), _CURSOR)
    _fill(frame, (x + 6, y - 8, x + 8, y + 8), _CURSOR)


def save_png(frame: np.ndarray, path: str | Path) -> None:
    """Write an ``H × W × 3`` uint8 frame as a PNG file (standard library only, no imaging package)."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"need an H × W × 3 uint8 frame, got {frame.shape} {frame.dtype}")
    h, w, _ = frame.shape
    raw = b"".join(b"\x00" + frame[row].tobytes() for row in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    Path(path).write_bytes(png)
