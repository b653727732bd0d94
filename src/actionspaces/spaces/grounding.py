"""Grounding space: ``Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|><|point_start|>(5,3)<|point_end|>``.

A grounding action names a verb and points at its target in the image. Points live in the 0..999 grid of
OpenHA (x to the right, y down), whatever the frame size; :meth:`Point.to_pixels` and
:meth:`Point.from_pixels` convert with one documented rule.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any, ClassVar, Literal

import numpy as np
from lark import Token, Transformer
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..canonical import Button, CanonicalAction
from ..space import DEFAULT_MAX_LENGTH, ActionSpace, SemanticError, as_generator, check_step_deg
from ..state import GUI_PX_PER_DEGREE, ViewState
from .raw import format_number
from .rules import lark_literal

__all__ = [
    "GROUNDING_LABEL_MAX_CHARS",
    "GROUNDING_MAX_COMMANDS",
    "TARGETED_VERBS",
    "GroundingAction",
    "GroundingCommand",
    "GroundingSpace",
    "GroundingVerb",
    "Point",
]

GroundingVerb = Literal["kill", "mine", "approach", "right_click", "left_click", "move_to", "explore", "noop"]
#: Verbs that need a target point.
TARGETED_VERBS: frozenset[str] = frozenset({"kill", "mine", "approach", "right_click", "left_click", "move_to"})
_VERB_TEXT: dict[str, str] = {
    "kill": "Kill",
    "mine": "Mine",
    "approach": "Approach",
    "right_click": "right click",
    "left_click": "left click",
    "move_to": "move to",
    "explore": "Explore",
    "noop": "no-op",
}
#: Input spellings of the verbs; ``move_camera`` (grounding.txt, README) means the same as ``move to``.
_VERB_ALIASES: dict[str, GroundingVerb] = {
    "kill": "kill",
    "mine": "mine",
    "approach": "approach",
    "rightclick": "right_click",
    "leftclick": "left_click",
    "moveto": "move_to",
    "movecamera": "move_to",
}


@cache
def _verb_of(spelling: str) -> GroundingVerb:
    """The verb a spelling names, whatever its case, spaces and underscores (``"Move_to"`` → ``"move_to"``).

    Raises:
        KeyError: not a targeted verb's spelling (the grammar admits only those).

    Examples:
        >>> _verb_of("right click"), _verb_of("left_click"), _verb_of("move_camera")
        ('right_click', 'left_click', 'move_to')
    """
    return _VERB_ALIASES["".join(ch for ch in spelling.lower() if ch.isalpha())]


GRID = 1000  # points are integers 0..999 of a 1000-step grid over the image
#: Most commands in one generated grounding action.
GROUNDING_MAX_COMMANDS = 3
#: Most characters in a generated object label (Minecraft 1.16's longest block name has 34).
GROUNDING_LABEL_MAX_CHARS = 48


class Point(BaseModel):
    """A point of the image on OpenHA's grid: ``x``, ``y`` in ``[0, 1000)``, x right, y down.

    One rule maps the image to the grid: a position ``c`` of the frame (in pixel units from its left or top
    edge) lies in grid cell ``floor(c / W · 1000)`` (:meth:`from_position`); a pixel index ``px`` is the
    position of its centre, ``px + 0.5`` (:meth:`from_pixels`). Conversion to pixels takes the centre of the
    grid cell: ``px = floor((x + 0.5)·W/1000)``, clipped to ``W − 1`` (and the same for y with H). For
    frames up to 1000 px, ``to_pixels(from_pixels(p)) == p`` for every pixel; the other way round several
    grid points share a pixel.

    Examples:
        >>> Point(x=512, y=300).to_pixels(640, 360)
        (328, 108)
        >>> Point.from_pixels(328, 108, 640, 360)
        Point(x=513.0, y=301.0)
        >>> Point.from_position(328.0, 108.0, 640, 360), Point.from_position(-4.2, 400.0, 640, 360)
        (Point(x=512.0, y=300.0), Point(x=0.0, y=999.0))
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # native constraints (no Python validator): the parsers build one of these per grounding command
    x: float = Field(ge=0, lt=GRID, allow_inf_nan=False)
    y: float = Field(ge=0, lt=GRID, allow_inf_nan=False)

    def to_pixels(self, width: int = 640, height: int = 360) -> tuple[int, int]:
        """The pixel ``(column, row)`` of a ``width``×``height`` frame that holds this point."""
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}×{height}")
        return (
            min(math.floor((self.x + 0.5) * width / GRID), width - 1),
            min(math.floor((self.y + 0.5) * height / GRID), height - 1),
        )

    @classmethod
    def from_pixels(cls, column: float, row: float, width: int = 640, height: int = 360) -> Point:
        """The grid point of a pixel (its index) of a ``width``×``height`` frame: the cell of the pixel's centre.

        Raises:
            ValueError: the frame size is not positive, or the pixel lies outside the frame.
        """
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}×{height}")
        if not (0 <= column < width and 0 <= row < height):
            raise ValueError(f"pixel ({column}, {row}) lies outside the {width}×{height} frame")
        return cls.from_position(column + 0.5, row + 0.5, width, height)

    @classmethod
    def from_position(cls, x: float, y: float, width: int = 640, height: int = 360) -> Point:
        """The grid cell holding position ``(x, y)`` of a ``width``×``height`` frame, clamped to the frame.

        Positions are in pixel units from the frame's top-left corner (a projected object's centre, a
        cursor); one just outside the frame maps to the nearest border cell.

        Raises:
            ValueError: the frame size is not positive, or a coordinate is NaN or infinite.
        """
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}×{height}")
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"position ({x}, {y}) must be finite")
        return cls(
            x=min(GRID - 1, max(0, math.floor(x / width * GRID))),
            y=min(GRID - 1, max(0, math.floor(y / height * GRID))),
        )

    def __repr__(self) -> str:
        return f"Point(x={self.x!r}, y={self.y!r})"


class GroundingCommand(BaseModel):
    """One grounding command: a verb, an optional object label, and its target points.

    ``box=True`` means the two points are the corners of a box whose centre is the target.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    verb: GroundingVerb
    label: str | None = None
    points: tuple[Point, ...] = ()
    box: bool = False

    @model_validator(mode="after")
    def _shape(self) -> GroundingCommand:
        if self.label is None and not self.box and self.points and self.verb in TARGETED_VERBS:
            return self  # the common case, in one test
        if self.verb in TARGETED_VERBS and not self.points:
            raise ValueError(f"grounding verb {self.verb!r} needs a target point")
        if self.verb not in TARGETED_VERBS and (self.points or self.label is not None):
            raise ValueError(f"grounding verb {self.verb!r} takes no target")
        if self.box and len(self.points) != 2:
            raise ValueError(f"a box has exactly two corner points, got {len(self.points)}")
        if self.label is not None and (
            not self.label.strip() or self.label != self.label.strip() or "\n" in self.label
        ):
            raise ValueError(f"object label must be one stripped, non-empty line, got {self.label!r}")
        if self.label is not None and "<|" in self.label:
            raise ValueError(f"object label may not contain special tokens, got {self.label!r}")
        return self

    @property
    def target(self) -> Point | None:
        """The point acted on: the first point, or the centre of the box."""
        if not self.points:
            return None
        if self.box:
            a, b = self.points
            return Point(x=(a.x + b.x) / 2, y=(a.y + b.y) / 2)
        return self.points[0]


class GroundingAction(BaseModel):
    """A grounding action: one or more commands, executed in order.

    Examples:
        >>> a = GroundingSpace().parse("Grounding: Mine <|point_start|>(512,300)<|point_end|>")
        >>> a.commands[0].verb, a.commands[0].target
        ('mine', Point(x=512.0, y=300.0))
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    commands: tuple[GroundingCommand, ...] = Field(min_length=1)


class _GroundingTransformer(Transformer[Token, Any]):
    def start(self, commands: list[GroundingCommand]) -> GroundingAction:
        return GroundingAction(commands=tuple(commands))

    def noop(self, _: list[Token]) -> GroundingCommand:
        return GroundingCommand(verb="noop")

    def explore(self, _: list[Token]) -> GroundingCommand:
        return GroundingCommand(verb="explore")

    def targeted(self, children: list[Any]) -> GroundingCommand:
        verb_token, label, (points, box) = children
        if isinstance(label, Token):  # a bare label, "Mine oak log(512,300)"
            label = str(label).strip()
        return GroundingCommand(verb=_verb_of(str(verb_token)), label=label, points=points, box=box)

    def object_ref(self, children: list[Any]) -> str:
        start, label, _ = children
        text = str(label).strip() if label is not None else ""
        if not text:
            raise SemanticError.at(start, "empty object label", ("a label",))
        return text

    def points(self, children: list[Any]) -> tuple[tuple[Point, ...], bool]:
        return tuple(p for p in children if isinstance(p, Point)), False

    def box(self, children: list[Any]) -> tuple[tuple[Point, ...], bool]:
        return tuple(p for p in children if isinstance(p, Point)), True

    def bare_point(self, children: list[Point]) -> tuple[tuple[Point, ...], bool]:
        return (children[0],), False

    def grid_point(self, children: list[Token]) -> Point:
        return Point(x=_coordinate(children[0], 1.0), y=_coordinate(children[1], 1.0))

    def fraction_point(self, children: list[Token]) -> Point:
        return Point(x=_coordinate(children[1], GRID), y=_coordinate(children[3], GRID))


def _coordinate(token: Token, scale: float) -> float:
    value = float(token) * scale
    if not (math.isfinite(value) and 0 <= value < GRID):
        shown = "0..999" if scale == 1.0 else "0 ≤ v < 1"
        raise SemanticError.at(token, f"coordinate {token!s} is outside the image grid ({shown})", (shown,))
    return value


class GroundingSpace(ActionSpace[GroundingAction]):
    """OpenHA's grounding commands: Kill, Mine, Approach, right/left click, move to / move_camera, Explore, no-op.

    Targets are written with point markers (``<|point_start|>(512,300)<|point_end|>``) or, as the reasoning
    dialect of OpenHA's RL models writes them, as a bare point (``move_to (372,390)``, ``Mine oak log(5,3)``).
    ``left click`` clicks (attacks) where ``right click`` uses.

    Args:
        max_turn_deg: largest camera (or cursor) step per tick when canonicalizing, in degrees.
        aim_tolerance_deg: in the world view, a target within this angle of the crosshair counts as aimed
            at, so the first tick interacts instead of turning.
        max_length: longest accepted body, in characters.

    Examples:
        >>> space = GroundingSpace()
        >>> ref = "<|object_ref_start|>empty slot<|object_ref_end|>"
        >>> a = space.parse(f"Grounding: move_camera {ref}<|point_start|>(881,558)<|point_end|>")
        >>> space.render(a)
        'Grounding: move to <|object_ref_start|>empty slot<|object_ref_end|><|point_start|>(881,558)<|point_end|>'
    """

    name: ClassVar[str] = "grounding"
    prefix: ClassVar[str] = "Grounding:"
    grammar_name: ClassVar[str] = "grounding"
    action_type: ClassVar[type[BaseModel]] = GroundingAction
    terminal_descriptions: ClassVar[dict[str, str]] = {
        "NUMBER": "a number",
        "LABEL": "a label",
        "VERB": "a verb (Kill, Mine, Approach, right click, left click, move to)",
        "BARE_LABEL": "an object name",
        "X_EQ": "'x='",
        "Y_EQ": "'y='",
        "_SEP": "',' or 'and'",
    }

    def __init__(
        self, *, max_turn_deg: float = 10.0, aim_tolerance_deg: float = 1.0, max_length: int = DEFAULT_MAX_LENGTH
    ) -> None:
        super().__init__(max_length=max_length)
        if not (math.isfinite(aim_tolerance_deg) and aim_tolerance_deg >= 0):
            raise ValueError(f"aim_tolerance_deg must be a finite number ≥ 0, got {aim_tolerance_deg!r}")
        self.max_turn_deg = check_step_deg("max_turn_deg", max_turn_deg)
        self.aim_tolerance_deg = aim_tolerance_deg

    @classmethod
    def transformer(cls) -> _GroundingTransformer:
        """The transformer of ``grammars/grounding.lark``."""
        return _GroundingTransformer()

    def fast_parse(self, body: str) -> GroundingAction | None:
        """Commands as :meth:`render` writes them, or with bare points (``move_to (372,390)``), one scan."""
        commands: list[GroundingCommand] = []
        pos, end = 0, len(body)
        while True:
            m = _COMMAND_RE.match(body, pos)
            if m is None:
                return None
            commands.append(_fast_command(m))
            pos = m.end()
            if pos == end:
                return GroundingAction(commands=tuple(commands))
            sep = _FAST_SEP.match(body, pos)
            if sep is None:
                return None
            pos = sep.end()

    def generation_rules(self) -> str:
        """Up to :data:`GROUNDING_MAX_COMMANDS` commands, each verb written as :meth:`render` writes it."""
        targeted = " | ".join(lark_literal(_VERB_TEXT[v]) for v in _VERB_TEXT if v in TARGETED_VERBS)
        untargeted = " | ".join(lark_literal(_VERB_TEXT[v]) for v in _VERB_TEXT if v not in TARGETED_VERBS)
        return "\n".join([
            f'grounding: grounding_command (", " grounding_command)~0..{GROUNDING_MAX_COMMANDS - 1}',
            f'grounding_command: grounding_verb " " grounding_ref? grounding_target | {untargeted}',
            f"grounding_verb: {targeted}",
            "grounding_ref: <|object_ref_start|> GROUNDING_LABEL <|object_ref_end|>",
            "grounding_target: <|point_start|> grounding_point <|point_end|>"
            ' | <|box_start|> grounding_point "," grounding_point <|box_end|>',
            'grounding_point: "(" GROUNDING_GRID "," GROUNDING_GRID ")"',
            f"GROUNDING_LABEL: /[a-z][a-z ]{{0,{GROUNDING_LABEL_MAX_CHARS - 2}}}[a-z]/",
            "GROUNDING_GRID: /(0|[1-9][0-9]{0,2})/",  # the 0..999 grid of the image
        ])  # fmt: skip

    def render_body(self, action: GroundingAction) -> str:
        """Commands joined by ``", "``; ``move_camera`` is written ``move to``."""
        return ", ".join(_render_command(c) for c in action.commands)

    def canonicalize(self, action: GroundingAction, state: ViewState | None = None) -> CanonicalAction:
        """The first tick of the first command.

        * GUI open: move the cursor towards the point (at most ``max_turn_deg`` per tick at 6.667 px per
          degree); once the cursor is on it (within half a pixel), click: ``right click`` uses, every other
          targeted verb attacks (a left click).
        * World view: turn towards the point through a pinhole camera of the state's field of view (at most
          ``max_turn_deg`` per tick); once within ``aim_tolerance_deg``, act: Mine/Kill/left click attack,
          Approach walks forward, right click uses, move to does nothing more.
        * ``Explore`` walks forward; ``no-op`` does nothing.
        """
        state = state or ViewState()
        command = action.commands[0]
        target = command.target
        if target is None:
            return CanonicalAction(buttons=frozenset({"forward"})) if command.verb == "explore" else CanonicalAction()
        px, py = target.to_pixels(state.width, state.height)
        if state.gui_open:
            cx, cy = state.cursor_px
            # aim at the pixel's centre, as Minecraft's slot hit test does
            yaw, pitch = (px + 0.5 - cx) / GUI_PX_PER_DEGREE, (py + 0.5 - cy) / GUI_PX_PER_DEGREE
            tolerance = 0.5 / GUI_PX_PER_DEGREE
            interact: Button | None = "use" if command.verb == "right_click" else "attack"
        else:
            f = state.focal_px
            yaw = math.degrees(math.atan2(px + 0.5 - state.width / 2, f))
            pitch = math.degrees(math.atan2(py + 0.5 - state.height / 2, f))
            tolerance = self.aim_tolerance_deg
            interact = _WORLD_INTERACTION[command.verb]
        if abs(yaw) <= tolerance and abs(pitch) <= tolerance:
            return CanonicalAction(buttons=frozenset({interact}) if interact else frozenset())
        limit = self.max_turn_deg
        return CanonicalAction(camera=(float(np.clip(pitch, -limit, limit)), float(np.clip(yaw, -limit, limit))))

    def sample(self, rng: np.random.Generator | int | None = None) -> GroundingAction:
        """One to three random commands with labels and points from the 0..999 grid."""
        g = as_generator(rng)
        commands = [self._sample_command(g) for _ in range(1 if g.random() < 0.85 else int(g.integers(2, 4)))]
        return GroundingAction(commands=tuple(commands))

    @staticmethod
    def _sample_command(g: np.random.Generator) -> GroundingCommand:
        verb: GroundingVerb = _SAMPLE_VERBS[int(g.integers(len(_SAMPLE_VERBS)))]
        if verb not in TARGETED_VERBS:
            return GroundingCommand(verb=verb)
        label = _SAMPLE_LABELS[int(g.integers(len(_SAMPLE_LABELS)))] if g.random() < 0.8 else None
        box = bool(g.random() < 0.05)
        n = 2 if box else (1 if g.random() < 0.95 else 2)
        points = tuple(Point(x=int(g.integers(GRID)), y=int(g.integers(GRID))) for _ in range(n))
        return GroundingCommand(verb=verb, label=label, points=points, box=box)


# Fast path (GroundingSpace.fast_parse): commands in their commonest spellings, one match each; the grammar
# reads everything else (other spacing, cases, fractions, leading zeros) and words every error.
_GRID = r"(?:0|[1-9][0-9]{0,2})"
_XY = rf"\({_GRID},{_GRID}\)"
_COMMAND_RE = re.compile(
    # 1 verb, 2 label, 3 points or 4 box corners: the form render writes
    r"(Kill|Mine|Approach|right click|left click|move to) "
    r"(?:<\|object_ref_start\|>([a-z](?:[a-z ]*[a-z])?)<\|object_ref_end\|>)?"
    rf"(?:<\|point_start\|>({_XY}(?:,{_XY})*)<\|point_end\|>|<\|box_start\|>({_XY},{_XY})<\|box_end\|>)"
    # 5 verb, 6 label, 7 x, 8 y: a bare point
    r"|(move_to|left_click|right_click|move to|left click|right click|Kill|Mine|Approach)"
    rf"(?: ([A-Za-z'](?:[A-Za-z' _-]*[A-Za-z'_-])?))? ?\(({_GRID}),({_GRID})\)"
    # 9: no target
    r"|(Explore|no-op)"
)
_FAST_SEP = re.compile(r", | and ")
_XY_RE = re.compile(r"\(([0-9]+),([0-9]+)\)")
_PLAIN: dict[str, GroundingCommand] = {
    "Explore": GroundingCommand(verb="explore"),
    "no-op": GroundingCommand(verb="noop"),
}


def _fast_command(m: re.Match[str]) -> GroundingCommand:
    verb, label, points, box, bare_verb, bare_label, x, y, plain = m.groups()
    if bare_verb is not None:
        return GroundingCommand(verb=_verb_of(bare_verb), label=bare_label, points=(Point(x=int(x), y=int(y)),))
    if plain is not None:
        return _PLAIN[plain]
    corners = [Point(x=int(px), y=int(py)) for px, py in _XY_RE.findall(points or box)]
    return GroundingCommand(verb=_verb_of(verb), label=label, points=tuple(corners), box=box is not None)


_WORLD_INTERACTION: dict[str, Button | None] = {
    "kill": "attack",
    "mine": "attack",
    "approach": "forward",
    "right_click": "use",
    "left_click": "attack",
    "move_to": None,
}
_SAMPLE_VERBS: tuple[GroundingVerb, ...] = (
    "mine", "mine", "kill", "kill", "approach", "right_click", "move_to", "move_to", "explore", "noop",
)  # fmt: skip
_SAMPLE_LABELS = (
    "oak log", "birch log", "stone", "dirt", "sand", "grass block", "sugar cane", "hay block", "cow", "sheep",
    "zombie", "chicken", "crafting table", "chest", "empty slot", "oak planks", "stick", "iron ingot",
)  # fmt: skip


def _render_command(command: GroundingCommand) -> str:
    text = _VERB_TEXT[command.verb]
    if command.verb not in TARGETED_VERBS:
        return text
    ref = f"<|object_ref_start|>{command.label}<|object_ref_end|>" if command.label is not None else ""
    coords = ",".join(f"({format_number(p.x)},{format_number(p.y)})" for p in command.points)
    target = f"<|box_start|>{coords}<|box_end|>" if command.box else f"<|point_start|>{coords}<|point_end|>"
    return f"{text} {ref}{target}"
