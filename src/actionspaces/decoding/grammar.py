"""Generation grammars: each space's canonical output as a grammar in llguidance's Lark dialect.

The parsing grammars (``grammars/*.lark``) are permissive: they accept every spelling OpenHA's models and
prompts use. A decoding grammar must be the opposite, a language every string of which our parser accepts
*and* whose values pass the semantic checks (key names, coordinate ranges, codebook size, one move per
tick). So these grammars describe each space's canonical rendering (what :meth:`ActionSpace.render`
writes), built from the same tables the parsers check against, with every repetition bounded so that
generation always ends. Special tokens (``<|object_ref_start|>``, ``<|point_start|>``, ``<|latent_N|>``)
are written ``<|name|>``, which llguidance matches as one special token, never as its spelled-out text.

Building a grammar needs no llguidance; compiling it against a tokenizer does
(:class:`~actionspaces.decoding.GrammarConstraint`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from .. import registry
from ..canonical import BUTTONS
from ..chain import ChainSpace
from ..space import ActionSpace
from ..spaces import GroundingSpace, LanguageSpace, LatentSpace, MotionSpace, RawSpace
from ..spaces.raw import CLICK_NAMES, KEY_NAMES

__all__ = [
    "GROUNDING_LABEL_MAX_CHARS",
    "GROUNDING_MAX_COMMANDS",
    "LANGUAGE_MAX_CHARS",
    "generation_grammar",
    "special_tokens",
]
#: Most commands in one generated grounding action.
GROUNDING_MAX_COMMANDS = 3
#: Most characters in a generated object label (Minecraft 1.16's longest block name has 34).
GROUNDING_LABEL_MAX_CHARS = 48
#: Most characters in one generated skill.
LANGUAGE_MAX_CHARS = 64

_SPECIAL = re.compile(r"<\|[A-Za-z0-9_]+\|>")


def _lit(text: str) -> str:
    """A Lark string literal."""
    return json.dumps(text)


def _ordered_subset(name: str, parts: Sequence[str], sep: str) -> list[str]:
    """Rules for a non-empty subsequence of ``parts`` in the given order, joined by ``sep``.

    Linear in ``len(parts)``: alternative ``i`` starts at part ``i``; ``<name>_after<i>`` optionally adds
    part ``i + 1`` and continues, so no part can appear twice and the order is fixed.
    """
    last = len(parts) - 1
    heads = [f"{part} {name}_after{i}" if i < last else part for i, part in enumerate(parts)]
    rules = [f"{name}: " + " | ".join(heads)]
    for i in range(last):
        tail = f" {name}_after{i + 1}" if i + 1 < last else ""
        rules.append(f"{name}_after{i}: ({sep} {parts[i + 1]})?{tail}")
    return rules


def _raw_rules(space: RawSpace) -> list[str]:
    # OpenHA's encoder form: move(dx, dy) and press(keys in env order) [and click(...) in button order]
    keys = [_lit(key) for button in BUTTONS for key, held in KEY_NAMES.items() if held == button]
    clicks = [_lit(f"click({name})") for button in ("attack", "use", "pickItem") for name, held in CLICK_NAMES.items()
              if held == button]  # fmt: skip
    return [
        'raw: "no_op" | "move(" RAW_INT ", " RAW_INT ") and press(" raw_keys? ")" (" and " raw_clicks)?',
        *_ordered_subset("raw_keys", keys, '", "'),
        *_ordered_subset("raw_clicks", clicks, '" and "'),
        # |v| ≤ 999 mouse units stays inside the ±180° per-tick camera bound (1,200 units)
        "RAW_INT: /-?(0|[1-9][0-9]{0,2})/",
    ]


def _motion_rules(space: MotionSpace) -> list[str]:
    # The encoder's order (move, stance, camera, mouse, keyboard); world and GUI wording never mix.
    common = ['"jump"', '"drop"', '"swap"', "motion_hotbar", "motion_screen"]
    world = ["motion_move", "motion_stance", "motion_turn", "motion_click", *common]
    gui = ["motion_move", "motion_stance", "motion_cursor", '"operate gui"', '"choose"', *common]
    return [
        'motion: "no_op" | motion_world | motion_gui',
        *_ordered_subset("motion_world", world, '", "'),
        *_ordered_subset("motion_gui", gui, '", "'),
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
    ]


def _grounding_rules(space: GroundingSpace) -> list[str]:
    return [
        f'grounding: grounding_command (", " grounding_command)~0..{GROUNDING_MAX_COMMANDS - 1}',
        'grounding_command: grounding_verb " " grounding_ref? grounding_target | "Explore" | "no-op"',
        'grounding_verb: "Kill" | "Mine" | "Approach" | "right click" | "move to"',
        "grounding_ref: <|object_ref_start|> GROUNDING_LABEL <|object_ref_end|>",
        "grounding_target: <|point_start|> grounding_point <|point_end|>"
        ' | <|box_start|> grounding_point "," grounding_point <|box_end|>',
        'grounding_point: "(" GROUNDING_GRID "," GROUNDING_GRID ")"',
        f"GROUNDING_LABEL: /[a-z][a-z ]{{0,{GROUNDING_LABEL_MAX_CHARS - 2}}}[a-z]/",
        # the 0..999 grid of the image
        "GROUNDING_GRID: /(0|[1-9][0-9]{0,2})/",
    ]


def _language_rules(space: LanguageSpace) -> list[str]:
    # no ':' (a level header inside a chain), no '<' (a chat token): one plain line
    return [
        "language: LANGUAGE_TEXT",
        f"LANGUAGE_TEXT: /[A-Za-z0-9]([A-Za-z0-9 ,.'_-]{{0,{LANGUAGE_MAX_CHARS - 2}}}[A-Za-z0-9.])?/",
    ]


def _latent_rules(space: LatentSpace) -> list[str]:
    lo, hi = (space.num_codes, space.num_codes) if space.num_codes is not None else (1, space.max_codes)
    codes = " | ".join(f"<|latent_{i}|>" for i in range(space.codebook_size))
    return [f"latent: latent_code~{lo}..{hi}", f"latent_code: {codes}"]


_BUILDERS: dict[type[ActionSpace[Any]], Callable[[Any], list[str]]] = {
    RawSpace: _raw_rules,
    MotionSpace: _motion_rules,
    GroundingSpace: _grounding_rules,
    LanguageSpace: _language_rules,
    LatentSpace: _latent_rules,
}


def _space_rules(space: ActionSpace[Any]) -> list[str]:
    """The rules of one space; the entry rule is named after the space."""
    for kind, build in _BUILDERS.items():
        if isinstance(space, kind):
            return build(space)
    rules = space.generation_rules()
    if rules is None:
        raise TypeError(
            f"{type(space).__name__} has no generation grammar: define a method generation_rules() returning "
            f"Lark rules whose entry rule is named {space.name!r} (other names starting with {space.name}_)"
        )
    if not isinstance(rules, str) or not re.search(rf"^{re.escape(space.name)}\s*:", rules, re.MULTILINE):
        raise ValueError(
            f"{type(space).__name__}.generation_rules() must return Lark rules defining {space.name!r}, got {rules!r}"
        )
    return [rules]


def _level(space: ActionSpace[Any]) -> str:
    return f"{_lit(space.prefix + ' ')} {space.name}"


def _named_space(name: str) -> ActionSpace[Any] | ChainSpace:
    if name == "chain":
        return ChainSpace()
    spaces = ChainSpace().spaces
    if name not in spaces:
        raise ValueError(f"unknown action space {name!r}; expected one of {', '.join([*spaces, 'chain'])}")
    return spaces[name]


def generation_grammar(
    target: ActionSpace[Any] | ChainSpace | str, *, spaces: Sequence[str] | None = None, single: bool = False
) -> str:
    """The llguidance Lark grammar of what a model may write for ``target``, prefix included.

    Args:
        target: an action space (its parameters count: a :class:`LatentSpace`'s codebook size and code
            count), a :class:`ChainSpace`, or a name (``"raw"``, …, ``"chain"`` for the five spaces).
        spaces: for a chain, the names of the spaces it may use (e.g. ``["raw", "grounding"]``); all of
            the chain's spaces by default.
        single: for a chain, exactly one level (CrossHA's choice of one space per step) instead of an
            ordered chain of up to one level per space (Chain of Action).

    Returns:
        Grammar text for ``llguidance.LLMatcher.grammar_from_lark``. Every string it accepts parses with
        ``target`` (checked by the test-suite on sampled outputs).

    Raises:
        ValueError: an unknown space name, or ``spaces``/``single`` given for a single space.
        TypeError: a custom space without ``generation_rules()``.

    Examples:
        >>> print(generation_grammar("raw").splitlines()[0])
        start: "Action: " raw
        >>> print(generation_grammar("chain", spaces=["raw", "grounding"], single=True).splitlines()[0])
        start: "Grounding: " grounding | "Action: " raw
    """
    if isinstance(target, str):
        target = _named_space(target)
    if isinstance(target, ActionSpace) and not isinstance(target, ChainSpace):
        if spaces is not None or single:
            raise ValueError("spaces= and single= restrict a chain; pass a ChainSpace or 'chain'")
        return "\n".join([f"start: {_level(target)}", *_space_rules(target)]) + "\n"
    if not isinstance(target, ChainSpace):
        raise TypeError(f"target must be an ActionSpace, a ChainSpace or a space name, got {type(target).__name__}")
    chosen = _chain_levels(target, spaces)
    rules = (
        [f"start: {' | '.join(_level(s) for s in chosen)}"]
        if single
        else _ordered_subset("start", [_level(s) for s in chosen], _lit("\n"))
    )
    for space in chosen:
        rules += _space_rules(space)
    return "\n".join(rules) + "\n"


def _chain_levels(chain: ChainSpace, spaces: Sequence[str] | None) -> list[ActionSpace[Any]]:
    if isinstance(spaces, str):
        raise TypeError(f"spaces must be a sequence of space names, got the string {spaces!r}")
    names = list(chain.spaces) if spaces is None else list(spaces)
    unknown = [n for n in names if n not in chain.spaces]
    if unknown:
        raise ValueError(f"unknown space(s) {unknown} for this chain; it has {', '.join(chain.spaces)}")
    if not names:
        raise ValueError("spaces must name at least one space")
    if len(set(names)) != len(names):
        raise ValueError(f"spaces names a space twice: {names}")
    # the levels in their textual order, from the most abstract to the executable one
    return [chain.spaces[n] for n in registry.text_order(names)]


def special_tokens(grammar: str) -> list[str]:
    """The special tokens a grammar refers to (each must be one token of the tokenizer).

    Examples:
        >>> special_tokens(generation_grammar(LatentSpace(codebook_size=2)))
        ['<|latent_0|>', '<|latent_1|>']
    """
    return sorted(set(_SPECIAL.findall(grammar)), key=lambda t: (len(t), t))
