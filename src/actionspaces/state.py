"""The part of the env state that decides what a high-level action does on the next tick.

A raw action means the same thing in every state; a grounding point or a motion word does not: pointing
at a slot moves the cursor when a GUI is open and turns the view when it is closed. ``canonicalize``
takes this state so that g(â) is defined for every space.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["GUI_PX_PER_DEGREE", "ViewState", "angle_to", "wrap_degrees"]

#: Cursor pixels per degree of camera action in a GUI (2400/360 at GUI scale 1, MineRL 1.0).
GUI_PX_PER_DEGREE = 2400 / 360


class ViewState(BaseModel):
    """What the agent sees: the frame geometry, whether a GUI is open, and where its cursor is.

    Defaults are MineRL / MineStudio's: a 640×360 frame, 70° vertical field of view, the cursor at the
    screen centre.

    Examples:
        >>> ViewState(gui_open=True, cursor=(100.0, 50.0)).cursor
        (100.0, 50.0)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gui_open: bool = False
    width: int = Field(default=640, gt=0)
    height: int = Field(default=360, gt=0)
    fov_deg: float = Field(default=70.0, gt=0.0, lt=180.0)
    cursor: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _cursor_inside(self) -> ViewState:
        if self.cursor is not None:
            x, y = self.cursor
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError(f"cursor must be finite, got {self.cursor!r}")
            if not (0 <= x <= self.width and 0 <= y <= self.height):
                raise ValueError(f"cursor {self.cursor!r} lies outside the {self.width}×{self.height} frame")
        return self

    @property
    def cursor_px(self) -> tuple[float, float]:
        """The cursor position, the screen centre when none is set (where Minecraft puts it on opening)."""
        return self.cursor if self.cursor is not None else (self.width / 2, self.height / 2)

    @property
    def focal_px(self) -> float:
        """Pinhole focal length in pixels for the vertical field of view."""
        return (self.height / 2) / math.tan(math.radians(self.fov_deg) / 2)


def wrap_degrees(angle: float) -> float:
    """``angle`` wrapped to ``[-180, 180)``.

    Examples:
        >>> wrap_degrees(190.0), wrap_degrees(-180.0)
        (-170.0, -180.0)
    """
    return (angle + 180.0) % 360.0 - 180.0


def angle_to(dx: float, dy: float, dz: float) -> tuple[float, float]:
    """``(pitch, yaw)`` in degrees that look along ``(dx, dy, dz)`` (Minecraft's conventions)."""
    yaw = math.degrees(math.atan2(-dx, dz))
    pitch = math.degrees(-math.atan2(dy, math.hypot(dx, dz)))
    return pitch, yaw
