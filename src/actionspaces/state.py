"""The part of the env state that decides what a high-level action does, and what a controller may read.

A raw action means the same thing in every state; a grounding point or a motion word does not: pointing
at a slot moves the cursor when a GUI is open and turns the view when it is closed. ``canonicalize``
takes a :class:`ViewState` so that g(â) is defined for every space.

Controllers read a :class:`ControlState` each tick: the view state plus the view angles, the keys held on
the previous tick and, where the env renders one, the frame. Any env that offers ``control_state()`` (the
:class:`StateProvider` protocol) can be driven by the library's controllers: CraftWorld and MineStudio do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "GUI_PX_PER_DEGREE",
    "ControlState",
    "StateProvider",
    "ViewState",
    "angle_to",
    "point_direction",
    "wrap_degrees",
]

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


@dataclass(frozen=True, kw_only=True)
class ControlState:
    """What a controller may read on one tick: nothing a player at the keyboard could not know.

    Attributes:
        view: the frame geometry, whether a GUI is open and where its cursor is.
        pitch, yaw: the view angles in degrees (Minecraft's: pitch down is positive, yaw wraps at ±180).
        held_keys: the buttons pressed on the previous tick (an edge-triggered key must be released first).
        pov: the rendered frame (``height × width × 3``) when the env provides one, else ``None``.

    Examples:
        >>> state = ControlState(view=ViewState(gui_open=True, cursor=(10.0, 20.0)), pitch=0.0, yaw=90.0)
        >>> state.gui_open, state.view.cursor_px, state.held_keys
        (True, (10.0, 20.0), frozenset())
    """

    view: ViewState
    pitch: float
    yaw: float
    held_keys: frozenset[str] = frozenset()
    pov: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.view, ViewState):
            raise TypeError(f"ControlState.view must be a ViewState, got {type(self.view).__name__}")
        if not (math.isfinite(self.pitch) and math.isfinite(self.yaw)):
            raise ValueError(f"view angles must be finite, got pitch={self.pitch!r} yaw={self.yaw!r}")

    @property
    def gui_open(self) -> bool:
        """Whether a GUI (inventory, crafting table) is open."""
        return self.view.gui_open


@runtime_checkable
class StateProvider(Protocol):
    """An env the library's controllers can drive: it reports a :class:`ControlState` before each tick.

    Examples:
        >>> from actionspaces.envs import CraftWorld
        >>> isinstance(CraftWorld(), StateProvider)
        True
    """

    def control_state(self) -> ControlState:
        """The state a controller reads before the next tick."""
        ...


def point_direction(state: ControlState, px: float, py: float) -> tuple[float, float]:
    """``(pitch, yaw)`` in degrees that look through window pixel ``(px, py)``: the pinhole camera model.

    Examples:
        >>> state = ControlState(view=ViewState(), pitch=0.0, yaw=0.0)
        >>> point_direction(state, 320.0, 180.0)
        (0.0, 0.0)
        >>> [round(a, 1) for a in point_direction(state, 640.0, 180.0)]
        [0.0, 51.2]
    """
    view = state.view
    f = view.focal_px
    yaw = math.degrees(math.atan2(px - view.width / 2, f))
    pitch = math.degrees(math.atan2(py - view.height / 2, f))
    return state.pitch + pitch, wrap_degrees(state.yaw + yaw)
