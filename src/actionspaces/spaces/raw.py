"""Raw space: ``Action: move(dx, dy) and press(keys…) and click(button)``, one env tick.

The camera is given in mouse units, as OpenHA writes it: ``camera = [dy·0.15, dx·0.15]`` degrees
(+dx turns right, +dy looks down). Keys use OpenHA's text names (``w``, ``space``, ``left.control``, …);
``click(left|right|middle)`` is attack / use / pickItem.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Annotated, Any, ClassVar

import numpy as np
from lark import Token, Transformer
from pydantic import BaseModel, ConfigDict, Field

from ..camera import OPENHA_CAMERA
from ..canonical import BUTTONS, CAMERA_LIMIT_DEG, CAMERA_SCALER, HOTBAR, Button, CanonicalAction
from ..space import ActionSpace, SemanticError, _compiled, as_generator, did_you_mean
from ..state import ViewState
from .rules import lark_literal, ordered_subset

__all__ = ["KEY_NAMES", "RawAction", "RawSpace"]

#: Largest |dx| or |dy| (mouse units) that stays within the env's ±180° per-tick camera bound.
MOUSE_LIMIT = CAMERA_LIMIT_DEG / CAMERA_SCALER

#: OpenHA's text key names (``press(...)``) and the button each one holds.
KEY_NAMES: dict[str, Button] = {
    "escape": "ESC",
    "s": "back",
    "q": "drop",
    "w": "forward",
    **{str(i): button for i, button in enumerate(HOTBAR, 1)},
    "e": "inventory",
    "space": "jump",
    "a": "left",
    "d": "right",
    "left.shift": "sneak",
    "left.control": "sprint",
    "f": "swapHands",
}
#: Extra spellings accepted on input (normalised to :data:`KEY_NAMES` on output).
KEY_ALIASES: dict[str, str] = {
    "esc": "escape",
    "shift": "left.shift",
    "ctrl": "left.control",
    "control": "left.control",
    "left.ctrl": "left.control",
}
CLICK_NAMES: dict[str, Button] = {"left": "attack", "right": "use", "middle": "pickItem"}
#: The key words of the reserved-token dialect (``forward``, ``attack`` …), each the env button it holds.
WORD_BUTTONS: dict[str, Button] = {
    "forward": "forward", "back": "back", "left": "left", "right": "right", "sprint": "sprint", "sneak": "sneak",
    "use": "use", "drop": "drop", "attack": "attack", "jump": "jump", "inventory": "inventory",
}  # fmt: skip

_TEXT_KEY: dict[Button, str] = {button: key for key, button in KEY_NAMES.items()}
_CLICK_TEXT: dict[Button, str] = {button: name for name, button in CLICK_NAMES.items()}
# Render order: OpenHA's encoder walks the env keys in this order, then the clicks left, right, middle.
_KEY_ORDER: tuple[Button, ...] = tuple(b for b in BUTTONS if b in _TEXT_KEY)
_CLICK_ORDER: tuple[Button, ...] = ("attack", "use", "pickItem")
#: What to write for a MineRL button name used where a key belongs (``press(jump)`` means ``press(space)``).
_MEANT: dict[str, str] = {str(b): k for b, k in _TEXT_KEY.items()}
_MEANT |= {str(b): f"click({c})" for b, c in _CLICK_TEXT.items()}
_KEY_PREFIXES = ("key.keyboard.", "keyboard.", "key.")
_EXPECTED_KEYS = tuple(KEY_NAMES)
_EXPECTED_CLICKS = tuple(CLICK_NAMES)


class RawAction(BaseModel):
    """A raw action: a camera move in mouse units and the set of held buttons.

    Examples:
        >>> a = RawAction(dx=19, buttons={"forward", "attack"})
        >>> RawSpace().render(a)
        'Action: move(19, 0) and press(w) and click(left)'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # native constraints (no Python validator): the parsers construct one of these per response
    dx: Annotated[float, Field(ge=-MOUSE_LIMIT, le=MOUSE_LIMIT, allow_inf_nan=False)] = 0.0
    dy: Annotated[float, Field(ge=-MOUSE_LIMIT, le=MOUSE_LIMIT, allow_inf_nan=False)] = 0.0
    buttons: frozenset[Button] = frozenset()

    @property
    def is_noop(self) -> bool:
        """True for the null action (``no_op`` / ``move(0, 0) and press()``)."""
        return not self.buttons and self.dx == 0 and self.dy == 0


class _RawTransformer(Transformer[Token, Any]):
    """Builds a :class:`RawAction` from the raw grammar; checks names and numbers at their positions."""

    def noop(self, _: list[Token]) -> RawAction:
        return RawAction()

    def items(self, children: list[tuple[str, Any, Token]]) -> RawAction:
        move: tuple[float, float] | None = None
        buttons: set[Button] = set()
        for kind, value, token in children:
            if kind == "move":
                if move is not None:
                    raise SemanticError.at(token, "a second move(...) in one action (only one camera move per tick)")
                move = value
            else:
                buttons |= value
        dx, dy = move if move is not None else (0.0, 0.0)
        return RawAction(dx=dx, dy=dy, buttons=frozenset(buttons))

    def positional(self, children: list[Token]) -> tuple[None, Token]:
        return None, children[0]

    def keyword(self, children: list[Token]) -> tuple[Token, Token]:
        return children[0], children[1]

    def move(self, children: list[Any]) -> tuple[str, tuple[float, float], Token]:
        head, *args = children
        values: dict[str, float] = {}
        for index, (name, value) in enumerate(args):
            if name is None:
                if index and args[0][0] is not None:
                    raise SemanticError.at(value, "positional argument after a keyword argument", ("dy=",))
                slot = ("dx", "dy")[index]
            else:
                slot = str(name)
                if slot not in ("dx", "dy"):
                    raise SemanticError.at(name, f"unknown move() argument {slot!r}", ("dx", "dy"))
                if slot in values:
                    raise SemanticError.at(name, f"move() got {slot} twice", ("dx", "dy"))
            values[slot] = _number(value, slot)
        return "move", (values["dx"], values["dy"]), head

    def press(self, children: list[Any]) -> tuple[str, set[Button], Token]:
        head, *keys = children
        return "buttons", {_key(k) for k in keys if k is not None}, head

    def key_down(self, children: list[Any]) -> tuple[str, set[Button], Token]:
        head, name, keys = children
        if name is not None and str(name) != "keys":
            raise SemanticError.at(name, f"unknown keyDown() argument {str(name)!r}", ("keys",))
        keys = keys if isinstance(keys, list) else [keys]
        return "buttons", {_key(k) for k in keys}, head

    def key_tuple(self, children: list[Token | None]) -> list[Token]:
        return [k for k in children if k is not None]

    def click(self, children: list[Any]) -> tuple[str, set[Button], Token]:
        head, name, value = children
        if name is not None and str(name) != "button":
            raise SemanticError.at(name, f"unknown click() argument {str(name)!r}", ("button",))
        button = CLICK_NAMES.get(_unquote(value).strip().lower())
        if button is None:
            raise SemanticError.at(value, f"unknown mouse button {str(value)!r}", _EXPECTED_CLICKS)
        return "buttons", {button}, head

    def reserved(self, children: list[Token]) -> RawAction:
        return _decode_reserved(children)

    def camera_word(self, children: list[Token]) -> tuple[str, tuple[float, float], Token]:
        head, pitch, yaw = children
        return "camera", (_degrees(pitch, "pitch"), _degrees(yaw, "yaw")), head

    def hotbar_word(self, children: list[Token]) -> tuple[str, Button, Token]:
        return "button", HOTBAR[int(str(children[0])[-1]) - 1], children[0]

    def key_word(self, children: list[Token]) -> tuple[str, Button, Token]:
        return "button", WORD_BUTTONS[str(children[0]).lower()], children[0]

    def words(self, children: list[tuple[str, Any, Token]]) -> RawAction:
        camera: tuple[float, float] | None = None
        buttons: set[Button] = set()
        for kind, value, token in children:
            if kind == "camera":
                if camera is not None:
                    raise SemanticError.at(token, "a second camera move in one action (only one per tick)")
                camera = value
            elif value in buttons:
                raise SemanticError.at(token, f"{token!s} twice in one action")
            else:
                buttons.add(value)
        pitch, yaw = camera if camera is not None else (0.0, 0.0)
        return _from_degrees(pitch, yaw, frozenset(buttons))


def _unquote(token: Token) -> str:
    text = str(token)
    if token.type == "STRING":
        return text[1:-1]
    return text


def _number(token: Token, name: str) -> float:
    text = _unquote(token).strip()
    # the NUMBER terminal admits only float syntax (no "nan"/"inf" spellings), so float() cannot fail
    value = float(text) if _number_pattern().fullmatch(text) else math.nan
    if not math.isfinite(value):
        raise SemanticError.at(token, f"{name} must be a finite number, got {token!s}", ("a number",))
    if abs(value) > MOUSE_LIMIT:
        raise SemanticError.at(
            token,
            f"{name}={value:g} exceeds ±{MOUSE_LIMIT:g} mouse units (±{CAMERA_LIMIT_DEG:g}° per tick)",
            (f"a number in [-{MOUSE_LIMIT:g}, {MOUSE_LIMIT:g}]",),
        )
    return value


def _from_degrees(pitch: float, yaw: float, buttons: frozenset[Button]) -> RawAction:
    """The raw action of a camera turn in degrees (MineRL's ``[pitch, yaw]``) with ``buttons`` held."""
    return RawAction(dx=yaw / CAMERA_SCALER, dy=pitch / CAMERA_SCALER, buttons=buttons)


def _degrees(token: Token, name: str) -> float:
    value = float(str(token))  # the NUMBER terminal admits only finite float syntax
    if abs(value) > CAMERA_LIMIT_DEG:
        raise SemanticError.at(
            token, f"camera {name} {value:g}° exceeds ±{CAMERA_LIMIT_DEG:g}° per tick", (f"±{CAMERA_LIMIT_DEG:g}",)
        )
    return value


def _key(token: Token) -> Button:
    name = _unquote(token).strip().lower()
    for prefix in _KEY_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    name = KEY_ALIASES.get(name, name)
    button = KEY_NAMES.get(name)
    if button is None:
        # a MineRL button name where its key belongs ("jump" for "space"), else the nearest spelling
        meant = _MEANT.get(name)
        hint = f" (did you mean {meant!r}?)" if meant else did_you_mean(name, _EXPECTED_KEYS)
        raise SemanticError.at(token, f"unknown key {str(token)!r}{hint}", _EXPECTED_KEYS)
    return button


@cache
def _number_pattern() -> re.Pattern[str]:
    """The grammar's NUMBER terminal (``terminals.lark``), for a number written as a quoted string."""
    return re.compile(_compiled(RawSpace).get_terminal("NUMBER").pattern.to_regexp())


# --------------------------------------------------------------------------------- reserved tokens
# OpenHA's legacy raw form: Qwen2-VL reserved special tokens, one (group, value) pair each; later tokens
# overwrite earlier ones in the same group. Group order follows VPT's BUTTONS_GROUPS.
_RESERVED_GROUPS: dict[str, tuple[int, tuple[Button | None, ...]]] = {
    "hotbar": (180, (None, *HOTBAR)),
    "fore_back": (190, (None, "forward", "back")),
    "left_right": (193, (None, "left", "right")),
    "sprint_sneak": (196, (None, "sprint", "sneak")),
    "use": (199, (None, "use")),
    "drop": (201, (None, "drop")),
    "attack": (203, (None, "attack")),
    "jump": (205, (None, "jump")),
    "camera_flag": (207, (None, None)),
    "inventory": (176, (None, "inventory")),
}
_PITCH_BASE, _YAW_BASE = 209, 230
_RESERVED_TABLE: dict[int, tuple[str, int]] = {
    base + value: (group, value) for group, (base, choices) in _RESERVED_GROUPS.items() for value in range(len(choices))
}
_RESERVED_TABLE.update({_PITCH_BASE + b: ("pitch", b) for b in range(OPENHA_CAMERA.n_bins)})
_RESERVED_TABLE.update({_YAW_BASE + b: ("yaw", b) for b in range(OPENHA_CAMERA.n_bins)})
_NULL_VALUE = {group: 0 for group in _RESERVED_GROUPS} | {
    "pitch": OPENHA_CAMERA.null_bin,
    "yaw": OPENHA_CAMERA.null_bin,
}
_RESERVED_EXPECTED = ("<|reserved_special_token_N|> with N in 176..177 or 180..250",)


def _token_number(token: Token) -> int:
    return int(str(token)[len("<|reserved_special_token_") : -2])


def _decode_reserved(children: list[Token]) -> RawAction:
    close_at = next(i for i, t in enumerate(children) if t.type == "RT_CLOSE")
    state = dict(_NULL_VALUE)
    for token in children[1:close_at]:
        entry = _RESERVED_TABLE.get(_token_number(token))
        if entry is None:
            raise SemanticError.at(token, f"{token!s} is not an action token", _RESERVED_EXPECTED)
        state[entry[0]] = entry[1]
    for token in children[close_at + 1 :]:
        entry = _RESERVED_TABLE.get(_token_number(token))
        # Padding after the closing token is tolerated only when it cannot mean anything.
        if entry is None or entry[1] != _NULL_VALUE[entry[0]]:
            raise SemanticError.at(token, f"{token!s} after the end of the action", ("end of action",))
    if state["inventory"]:  # exclusive, camera forced to null (VPT's rule)
        return RawAction(buttons=frozenset({"inventory"}))
    buttons: set[Button] = set()
    for group, (_, choices) in _RESERVED_GROUPS.items():
        chosen = choices[state[group]]
        if chosen is not None:
            buttons.add(chosen)
    pitch = float(OPENHA_CAMERA.decode(state["pitch"]))
    yaw = float(OPENHA_CAMERA.decode(state["yaw"]))
    return _from_degrees(pitch, yaw, frozenset(buttons))


# --------------------------------------------------------------------------------- fast path
# The exact form OpenHA's encoder writes. It only ever *accepts*: anything unusual, including every error,
# goes through the grammar, which stays the single definition of the language and of its messages.
_FAST_NUMBER = r"-?[0-9]{1,4}(?:\.[0-9]{1,12})?"
_CANONICAL_RE = re.compile(
    rf"move\(({_FAST_NUMBER}), ({_FAST_NUMBER})\) and press\(((?:[a-z0-9.]+)(?:, [a-z0-9.]+)*)?\)"
    r"((?: and click\((?:left|right|middle)\))*)"
)
_CLICK_RE = re.compile(r"click\((left|right|middle)\)")
# the reserved tokens' words, as the grammar's KEY_WORD lists them (no word is a prefix of another)
_WORD_ALTERNATIVES = "|".join([*WORD_BUTTONS, "hotbar [1-9]"])
_WORDS_RE = re.compile(rf"(?:camera move ({_FAST_NUMBER}),({_FAST_NUMBER}))?((?:{_WORD_ALTERNATIVES})*)")
_WORD_RE = re.compile(_WORD_ALTERNATIVES)


class RawToolArguments(BaseModel):
    """The raw space's tool arguments: a camera move in mouse units, the keys held, the mouse buttons clicked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dx: Annotated[
        float, Field(ge=-MOUSE_LIMIT, le=MOUSE_LIMIT, allow_inf_nan=False, description="mouse units right")
    ] = 0
    dy: Annotated[
        float, Field(ge=-MOUSE_LIMIT, le=MOUSE_LIMIT, allow_inf_nan=False, description="mouse units down")
    ] = 0
    # names, not Literals: an unknown one reaches the text parser, whose message suggests the closest
    keys: list[str] = Field(default=[], description="keys held", json_schema_extra={"items": {"enum": list(KEY_NAMES)}})
    click: list[str] = Field(
        default=[], description="mouse buttons clicked", json_schema_extra={"items": {"enum": list(CLICK_NAMES)}}
    )


class RawSpace(ActionSpace[RawAction]):
    """OpenHA's raw text action and its legacy forms; one env tick.

    Accepted: ``move(dx, dy)`` (ints, floats, quoted, or ``dx=``/``dy=`` keywords), ``press(k, …)``
    (bare, quoted, ``keyboard.``-prefixed names), ``keyDown(keys=(…))``, ``click(left|right|middle)``
    (also ``button=``), items joined by ``and`` or ``,``; ``no_op``/``no-op``; and the reserved-token form.

    Examples:
        >>> space = RawSpace()
        >>> a = space.parse("Action: move(dx='4.0', dy='-1.0') and keyDown(keys=(keyboard.left.control, keyboard.w))")
        >>> sorted(a.buttons), a.dx, a.dy
        (['forward', 'sprint'], 4.0, -1.0)
    """

    name: ClassVar[str] = "raw"
    prefix: ClassVar[str] = "Action:"
    grammar_name: ClassVar[str] = "raw"
    action_type: ClassVar[type[BaseModel]] = RawAction
    terminal_descriptions: ClassVar[dict[str, str]] = {
        "NUMBER": "a number",
        "STRING": "a quoted value",
        "WORD": "a name",
        "_SEP": "'and' or ','",
        "RT": "a reserved action token",
        "CAMERA_MOVE": "'camera move'",
        "HOTBAR_WORD": "'hotbar N'",
        "KEY_WORD": "a key word (forward, attack, …)",
    }
    # the legacy reserved-token form is read, but an error never steers a model towards it
    hidden_terminals: ClassVar[frozenset[str]] = frozenset({"RT", "RT_OPEN", "RT_CLOSE"})

    @classmethod
    def transformer(cls) -> _RawTransformer:
        """The transformer of ``grammars/raw.lark``."""
        return _RawTransformer()

    def fast_parse(self, body: str) -> RawAction | None:
        """OpenHA's encoder form and the reserved tokens' words, as written; the grammar reads everything else."""
        m = _CANONICAL_RE.fullmatch(body)
        if m is not None:
            dx, dy = float(m.group(1)), float(m.group(2))
            if abs(dx) > MOUSE_LIMIT or abs(dy) > MOUSE_LIMIT:
                return None
            buttons: set[Button] = set()
            if m.group(3):
                for key in m.group(3).split(", "):
                    button = KEY_NAMES.get(key)
                    if button is None:
                        return None
                    buttons.add(button)
            for click in _CLICK_RE.findall(m.group(4)):
                buttons.add(CLICK_NAMES[click])
            return RawAction(dx=dx, dy=dy, buttons=frozenset(buttons))
        m = _WORDS_RE.fullmatch(body)
        if m is None or not body:
            return None
        pitch, yaw = (float(m.group(1)), float(m.group(2))) if m.group(1) is not None else (0.0, 0.0)
        if abs(pitch) > CAMERA_LIMIT_DEG or abs(yaw) > CAMERA_LIMIT_DEG:
            return None
        words = _WORD_RE.findall(m.group(3))
        held = {HOTBAR[int(w[-1]) - 1] if w.startswith("hotbar") else WORD_BUTTONS[w] for w in words}
        if len(held) != len(words):  # a word twice: the grammar words the error
            return None
        return _from_degrees(pitch, yaw, frozenset(held))

    def generation_rules(self) -> str:
        """OpenHA's encoder form: ``move(dx, dy) and press(keys in env order) [and click(...) in button order]``.

        Keys and clicks come from the parser's own tables; ``|v| <= 999`` mouse units keeps inside the
        +-180 degree per-tick camera bound (1,200 units).
        """
        keys = [lark_literal(key) for button in BUTTONS for key, held in KEY_NAMES.items() if held == button]
        clicks = [lark_literal(f"click({name})") for button in _CLICK_ORDER for name, held in CLICK_NAMES.items()
                  if held == button]  # fmt: skip
        return "\n".join([
            'raw: "no_op" | "move(" RAW_INT ", " RAW_INT ") and press(" raw_keys? ")" (" and " raw_clicks)?',
            *ordered_subset("raw_keys", keys, '", "'),
            *ordered_subset("raw_clicks", clicks, '" and "'),
            "RAW_INT: /-?(0|[1-9][0-9]{0,2})/",
        ])  # fmt: skip

    def render_body(self, action: RawAction) -> str:
        """OpenHA encoder's form: ``move(dx, dy) and press(…)`` then the clicks; integers without decimals."""
        keys = ", ".join(_TEXT_KEY[b] for b in _KEY_ORDER if b in action.buttons)
        parts = [f"move({format_number(action.dx)}, {format_number(action.dy)})", f"press({keys})"]
        parts += [f"click({_CLICK_TEXT[b]})" for b in _CLICK_ORDER if b in action.buttons]
        return " and ".join(parts)

    tool_arguments_type: ClassVar[type[BaseModel] | None] = RawToolArguments

    def tool_arguments(self, action: RawAction) -> dict[str, Any]:
        """``{"dx", "dy", "keys", "click"}``: key and button names as the text writes them."""
        return {
            "dx": action.dx,
            "dy": action.dy,
            "keys": [_TEXT_KEY[b] for b in _KEY_ORDER if b in action.buttons],
            "click": [_CLICK_TEXT[b] for b in _CLICK_ORDER if b in action.buttons],
        }

    def tool_action(self, arguments: dict[str, Any]) -> RawAction:
        """The action of the arguments, read through the text parser (its messages for unknown names)."""
        args = RawToolArguments.model_validate(arguments)
        parts = [f"move({format_number(args.dx)}, {format_number(args.dy)})", f"press({', '.join(args.keys)})"]
        parts += [f"click({name})" for name in args.click]
        return self.parse_body(" and ".join(parts))

    def canonicalize(self, action: RawAction, state: ViewState | None = None) -> CanonicalAction:
        """``camera = [dy·0.15, dx·0.15]`` and the same buttons; the state does not matter for a raw action."""
        return CanonicalAction(buttons=action.buttons, camera=(action.dy * CAMERA_SCALER, action.dx * CAMERA_SCALER))

    def from_canonical(self, action: CanonicalAction) -> RawAction:
        """The raw action that canonicalizes to ``action`` (exact inverse of :meth:`canonicalize`)."""
        return _from_degrees(*action.camera, action.buttons)

    def sample(self, rng: np.random.Generator | int | None = None) -> RawAction:
        """A random action shaped like a policy's: often a small integer camera move, a few keys, a click."""
        g = as_generator(rng)
        dx = dy = 0.0
        if g.random() < 0.7:
            dx, dy = (float(v) for v in np.clip(np.round(g.normal(0, 25, 2)), -MOUSE_LIMIT, MOUSE_LIMIT))
            if g.random() < 0.1:  # occasionally a fractional value, as the legacy quoted-float form carries
                dx = round(float(g.uniform(-100, 100)), 2)
        keys = [b for b in _KEY_ORDER if g.random() < 0.08]
        clicks = [b for b in _CLICK_ORDER if g.random() < (0.25 if b == "attack" else 0.06)]
        return RawAction(dx=dx, dy=dy, buttons=frozenset(keys + clicks))


def format_number(value: float) -> str:
    """``19`` for 19.0, shortest round-tripping ``repr`` otherwise (so that parsing gives the same float)."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
