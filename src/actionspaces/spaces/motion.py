"""Motion space: ``Motion: move forward, sprint, turn left and up, attack / mine, jump``.

Fixed-magnitude primitives. Both vocabularies OpenHA uses are accepted — its encoder's (``move back``,
``use / place``, ``switch to hotbar N``) and its prompts' (``move backward``, ``place / use``,
``switch hotbar N``, ``move forward and left``) — and normalised to the encoder's, which is also the
order of rendering: move, move state, camera, mouse, keyboard.

World words (``turn``, ``attack / mine``, ``use / place``) and GUI words (``cursor move``,
``operate gui``, ``choose``) describe the same buttons in different screens; one action uses one set.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

import numpy as np
from lark import Token, Transformer
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ..canonical import HOTBAR, Button, CanonicalAction
from ..space import DEFAULT_MAX_LENGTH, ActionSpace, SemanticError, as_generator, check_step_deg
from ..state import ViewState
from .rules import ordered_subset

__all__ = ["MotionAction", "MotionSpace"]

ScreenOp = Literal["open inventory", "close inventory", "open gui", "close gui"]
_SCREEN_BUTTON: dict[str, Button] = {
    "open inventory": "inventory",
    "close inventory": "inventory",
    "open gui": "use",  # a GUI opens by using a block (crafting table, chest, …)
    "close gui": "ESC",
}
_DIRECTION_ALIASES = {"backward": "back", "backwards": "back"}


class MotionAction(BaseModel):
    """A motion action: which primitives are active on every tick it runs.

    ``gui`` records the GUI wording (``cursor move``, ``operate gui``, ``choose``) and is only allowed
    with a camera direction or a click, the words that carry it.

    Examples:
        >>> MotionSpace().render(MotionAction(forward_back="forward", stance="sprint", look_x="left", attack=True))
        'Motion: move forward, sprint, turn left, attack / mine'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    forward_back: Literal["forward", "back"] | None = None
    left_right: Literal["left", "right"] | None = None
    stance: Literal["sprint", "sneak"] | None = None
    look_x: Literal["left", "right"] | None = None
    look_y: Literal["up", "down"] | None = None
    attack: bool = False
    use: bool = False
    gui: bool = False
    jump: bool = False
    drop: bool = False
    swap: bool = False
    hotbar: tuple[int, ...] = ()
    screen: ScreenOp | None = None

    @field_validator("hotbar")
    @classmethod
    def _slots(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= v <= 9 for v in value):
            raise ValueError(f"hotbar slots must lie in 1..9, got {value!r}")
        if len(set(value)) != len(value):
            raise ValueError(f"hotbar slots must be distinct, got {value!r}")
        return tuple(sorted(value))

    @model_validator(mode="after")
    def _gui_wording(self) -> MotionAction:
        if self.gui and not (self.look_x or self.look_y or self.attack or self.use):
            raise ValueError("gui=True needs a cursor move or a click (the words that say it)")
        return self

    @property
    def is_noop(self) -> bool:
        """True when no primitive is active (``Motion: no_op``)."""
        return self == _NOOP_MOTION


_NOOP_MOTION = MotionAction()


def _components() -> dict[str, tuple[bool | None, dict[str, Any]]]:
    """Each component as the encoder writes it → (GUI wording or not, the fields it sets); for fast_parse."""
    table: dict[str, tuple[bool | None, dict[str, Any]]] = {}
    for fb in ("forward", "back", None):
        for lr in ("left", "right", None):
            words = [f"move {d}" for d in (fb, lr) if d]
            if words:
                table[" and ".join(words)] = (None, {k: v for k, v in (("forward_back", fb), ("left_right", lr)) if v})
    for x in ("left", "right", None):
        for y in ("up", "down", None):
            looks = [d for d in (x, y) if d]
            if looks:
                values = {k: v for k, v in (("look_x", x), ("look_y", y)) if v}
                table["turn " + " and ".join(looks)] = (False, values)
                table["cursor move " + " and ".join(looks)] = (True, values)
    table |= {
        "sprint": (None, {"stance": "sprint"}),
        "sneak": (None, {"stance": "sneak"}),
        "attack / mine": (False, {"attack": True}),
        "use / place": (False, {"use": True}),
        "attack / mine and use / place": (False, {"attack": True, "use": True}),
        "operate gui": (True, {"attack": True}),
        "choose": (True, {"use": True}),
        "jump": (None, {"jump": True}),
        "drop": (None, {"drop": True}),
        "swap": (None, {"swap": True}),
    }
    table |= {f"switch to hotbar {slot}": (None, {"hotbar": (slot,)}) for slot in range(1, 10)}
    table |= {op: (None, {"screen": op}) for op in ("open inventory", "close inventory", "open gui", "close gui")}
    return table


_COMPONENTS = _components()


class _MotionTransformer(Transformer[Token, Any]):
    def noop(self, _: list[Token]) -> MotionAction:
        return _NOOP_MOTION

    def components(self, children: list[tuple[Token, dict[str, Any]]]) -> MotionAction:
        fields: dict[str, Any] = {}
        gui_word: tuple[Token, bool] | None = None
        for head, part in children:
            context = part.pop("gui", None)
            if context is not None:
                if gui_word is not None and gui_word[1] != context:
                    raise SemanticError.at(
                        head,
                        "mixes world words (turn, attack / mine, use / place) with GUI words "
                        "(cursor move, operate gui, choose)",
                    )
                gui_word = (head, context)
            for key, value in part.items():
                if key in fields:
                    raise SemanticError.at(head, f"{key.replace('_', ' ')} given twice")
                fields[key] = value
        return MotionAction(**fields, gui=bool(gui_word and gui_word[1]))

    def move(self, children: list[Any]) -> tuple[Token, dict[str, Any]]:
        head, first, _and, _move, second = children
        fields: dict[str, Any] = {}
        for token in (first, second):
            if token is None:
                continue
            word = _direction(token)
            key = "forward_back" if word in ("forward", "back") else "left_right"
            if word in ("up", "down"):
                raise SemanticError.at(token, f"cannot move {word}", ("forward", "back", "left", "right"))
            if key in fields:
                raise SemanticError.at(token, f"conflicting move directions {fields[key]!r} and {word!r}")
            fields[key] = word
        return head, fields

    def stance(self, children: list[Token]) -> tuple[Token, dict[str, Any]]:
        return children[0], {"stance": str(children[0]).lower()}

    def turn(self, children: list[Any]) -> tuple[Token, dict[str, Any]]:
        return self._look(children[0], children[1:], gui=False)

    def cursor(self, children: list[Any]) -> tuple[Token, dict[str, Any]]:
        return self._look(children[0], children[2:], gui=True)

    @staticmethod
    def _look(head: Token, rest: list[Token | None], *, gui: bool) -> tuple[Token, dict[str, Any]]:
        first, _and, second = rest
        fields: dict[str, Any] = {"gui": gui}
        for token in (first, second):
            if token is None:
                continue
            word = _direction(token)
            if word in ("forward", "back"):
                raise SemanticError.at(token, f"cannot turn {word}", ("left", "right", "up", "down"))
            key = "look_x" if word in ("left", "right") else "look_y"
            if key in fields:
                raise SemanticError.at(token, f"conflicting directions {fields[key]!r} and {word!r}")
            fields[key] = word
        return head, fields

    def attack_mine(self, children: list[Token]) -> Token:
        return children[0]

    def use_place(self, children: list[Token]) -> Token:
        return children[0]

    def world_click(self, children: list[Token | None]) -> tuple[Token, dict[str, Any]]:
        head, _and, use = children
        return head, {"attack": True, "gui": False, **({"use": True} if use is not None else {})}  # type: ignore[return-value]

    def world_use(self, children: list[Token]) -> tuple[Token, dict[str, Any]]:
        return children[0], {"use": True, "gui": False}

    def gui_click(self, children: list[Token]) -> tuple[Token, dict[str, Any]]:
        return children[0], {"attack": True, "gui": True}

    def gui_use(self, children: list[Token]) -> tuple[Token, dict[str, Any]]:
        return children[0], {"use": True, "gui": True}

    def keyboard(self, children: list[Token]) -> tuple[Token, dict[str, Any]]:
        # jump/drop/swap are MotionAction's flag names; "open inventory" etc. are its ScreenOp values
        words = " ".join(str(t).lower() for t in children)
        return children[0], {"screen": words} if " " in words else {words: True}

    def hotbar(self, children: list[Token | None]) -> tuple[Token, dict[str, Any]]:
        head, slots = children[0], children[-1]
        assert head is not None and slots is not None
        values: list[int] = []
        for m in re.finditer(r"[0-9]+", str(slots)):
            slot = int(m.group())
            if not 1 <= slot <= 9 or slot in values:
                problem = "is not a hotbar slot (1..9)" if not 1 <= slot <= 9 else "is repeated"
                raise SemanticError((f"hotbar {m.group()} {problem}"), (slots.start_pos or 0) + m.start(), ("1..9",))
            values.append(slot)
        return head, {"hotbar": tuple(values)}


def _direction(token: Token) -> str:
    word = str(token).lower()
    return _DIRECTION_ALIASES.get(word, word)


class MotionSpace(ActionSpace[MotionAction]):
    """Motion primitives with fixed magnitudes.

    Args:
        turn_deg: camera degrees per tick for ``turn`` (world view).
        cursor_deg: camera degrees per tick for ``cursor move`` (GUI; 3° ≈ 20 px at 6.667 px/°).
        max_length: longest accepted body, in characters.

    Examples:
        >>> space = MotionSpace()
        >>> a = space.parse("Motion: move backward, place / use, switch hotbar 3")
        >>> space.render(a)
        'Motion: move back, use / place, switch to hotbar 3'
        >>> sorted(space.canonicalize(a).buttons)
        ['back', 'hotbar.3', 'use']
    """

    name: ClassVar[str] = "motion"
    prefix: ClassVar[str] = "Motion:"
    grammar_name: ClassVar[str] = "motion"
    action_type: ClassVar[type[BaseModel]] = MotionAction
    terminal_descriptions: ClassVar[dict[str, str]] = {
        "DIRECTION": "a direction (forward, back, left, right, up, down)",
        "SLOTS": "a hotbar slot 1..9",
    }

    def __init__(self, *, turn_deg: float = 5.0, cursor_deg: float = 3.0, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        super().__init__(max_length=max_length)
        self.turn_deg = check_step_deg("turn_deg", turn_deg)
        self.cursor_deg = check_step_deg("cursor_deg", cursor_deg)

    @classmethod
    def transformer(cls) -> _MotionTransformer:
        """The transformer of ``grammars/motion.lark``."""
        return _MotionTransformer()

    def fast_parse(self, body: str) -> MotionAction | None:
        """Components in the encoder's words joined by ``", "``, in any order, as the grammar reads them."""
        if body == "no_op":
            return _NOOP_MOTION
        fields: dict[str, Any] = {}
        gui: bool | None = None
        for part in body.split(", "):
            entry = _COMPONENTS.get(part)
            if entry is None:
                return None
            context, values = entry
            if context is not None:
                if gui is not None and gui != context:
                    return None  # mixed wording: the grammar words the error
                gui = context
            for key, value in values.items():
                if key in fields:
                    return None
                fields[key] = value
        return MotionAction(**fields, gui=bool(gui))

    def generation_rules(self) -> str:
        """The encoder's order (move, stance, camera, mouse, keyboard); world and GUI wording never mix."""
        common = ['"jump"', '"drop"', '"swap"', "motion_hotbar", "motion_screen"]
        world = ["motion_move", "motion_stance", "motion_turn", "motion_click", *common]
        gui = ["motion_move", "motion_stance", "motion_cursor", '"operate gui"', '"choose"', *common]
        return "\n".join([
            'motion: "no_op" | motion_world | motion_gui',
            *ordered_subset("motion_world", world, '", "'),
            *ordered_subset("motion_gui", gui, '", "'),
            'motion_move: "move " MOTION_FB (" and move " MOTION_LR)? | "move " MOTION_LR',
            'motion_stance: "sprint" | "sneak"',
            'motion_turn: "turn " motion_look',
            'motion_cursor: "cursor move " motion_look',
            'motion_look: MOTION_LR (" and " MOTION_UD)? | MOTION_UD',
            'motion_click: "attack / mine" (" and use / place")? | "use / place"',
            'motion_hotbar: "switch to hotbar " /[1-9]/',
            'motion_screen: ("open" | "close") (" inventory" | " gui")',
            'MOTION_FB: "forward" | "back"',
            'MOTION_LR: "left" | "right"',
            'MOTION_UD: "up" | "down"',
        ])  # fmt: skip

    def render_body(self, action: MotionAction) -> str:
        """The encoder's wording and order; ``no_op`` when nothing is active."""
        parts: list[str] = []
        moves = [d for d in (action.forward_back, action.left_right) if d]
        if moves:
            parts.append(" and ".join(f"move {d}" for d in moves))
        if action.stance:
            parts.append(action.stance)
        looks = [d for d in (action.look_x, action.look_y) if d]
        if looks:
            parts.append(("cursor move " if action.gui else "turn ") + " and ".join(looks))
        if action.gui:
            parts += ["operate gui"] * action.attack + ["choose"] * action.use
        elif action.attack or action.use:
            parts.append(" and ".join(["attack / mine"] * action.attack + ["use / place"] * action.use))
        parts += [word for word in ("jump", "drop", "swap") if getattr(action, word)]
        if action.hotbar:
            parts.append("switch to hotbar " + ", ".join(str(s) for s in action.hotbar))
        if action.screen:
            parts.append(action.screen)
        return ", ".join(parts) if parts else "no_op"

    def canonicalize(self, action: MotionAction, state: ViewState | None = None) -> CanonicalAction:
        """One tick of the primitive: held keys, and ``turn_deg`` (or ``cursor_deg``) per camera direction.

        ``open``/``close inventory`` press ``inventory``, ``close gui`` presses ``ESC``, ``open gui`` uses
        (the block being looked at). The state is not needed: the words already say GUI or world.
        """
        buttons: set[Button] = {d for d in (action.forward_back, action.left_right, action.stance) if d}
        flags: dict[Button, bool] = {
            "attack": action.attack, "use": action.use, "jump": action.jump, "drop": action.drop,
            "swapHands": action.swap,
        }  # fmt: skip
        buttons |= {button for button, on in flags.items() if on}
        buttons |= {HOTBAR[slot - 1] for slot in action.hotbar}
        if action.screen:
            buttons.add(_SCREEN_BUTTON[action.screen])
        step = self.cursor_deg if action.gui else self.turn_deg
        yaw = {"left": -step, "right": step, None: 0.0}[action.look_x]
        pitch = {"up": -step, "down": step, None: 0.0}[action.look_y]
        return CanonicalAction(buttons=frozenset(buttons), camera=(pitch, yaw))

    def sample(self, rng: np.random.Generator | int | None = None) -> MotionAction:
        """A random combination of primitives (about one in ten is ``no_op``)."""
        g = as_generator(rng)
        if g.random() < 0.1:
            return _NOOP_MOTION

        def pick(options: tuple[Any, ...], p: float) -> Any:
            return options[int(g.integers(len(options)))] if g.random() < p else None

        gui = bool(g.random() < 0.25)
        fields: dict[str, Any] = {
            "forward_back": None if gui else pick(("forward", "back"), 0.5),
            "left_right": None if gui else pick(("left", "right"), 0.15),
            "stance": None if gui else pick(("sprint", "sneak"), 0.15),
            "look_x": pick(("left", "right"), 0.5),
            "look_y": pick(("up", "down"), 0.3),
            "attack": bool(g.random() < 0.3),
            "use": bool(g.random() < 0.1),
            "jump": not gui and bool(g.random() < 0.1),
            "drop": bool(g.random() < 0.02),
            "swap": bool(g.random() < 0.02),
            "hotbar": (int(g.integers(1, 10)),) if g.random() < 0.08 else (),
            "screen": pick(("open inventory", "close inventory", "open gui", "close gui"), 0.05),
        }
        fields["gui"] = gui and any(fields[k] for k in ("look_x", "look_y", "attack", "use"))
        return MotionAction(**fields)
