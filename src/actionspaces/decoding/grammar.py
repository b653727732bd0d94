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

import re
from collections.abc import Sequence
from typing import Any

from .. import registry
from ..chain import ChainSpace
from ..space import ActionSpace
from ..spaces.grounding import GROUNDING_LABEL_MAX_CHARS, GROUNDING_MAX_COMMANDS
from ..spaces.language import LANGUAGE_MAX_CHARS
from ..spaces.rules import lark_literal, ordered_subset

__all__ = [
    "GROUNDING_LABEL_MAX_CHARS",
    "GROUNDING_MAX_COMMANDS",
    "LANGUAGE_MAX_CHARS",
    "generation_grammar",
    "special_tokens",
    "spelled_out_grammar",
]
_SPECIAL = re.compile(r"<\|[A-Za-z0-9_]+\|>")


def _space_rules(space: ActionSpace[Any]) -> list[str]:
    """The rules of one space (its :meth:`~actionspaces.ActionSpace.generation_rules`), entry rule named after it."""
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
    return f"{lark_literal(space.prefix + ' ')} {space.name}"


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
        else ordered_subset("start", [_level(s) for s in chosen], lark_literal("\n"))
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
        >>> from actionspaces import LatentSpace
        >>> special_tokens(generation_grammar(LatentSpace(codebook_size=2)))
        ['<|latent_0|>', '<|latent_1|>']
    """
    return sorted(set(_SPECIAL.findall(grammar)), key=lambda t: (len(t), t))


def spelled_out_grammar(grammar: str) -> str:
    """``grammar`` with every special token matched as its spelled-out text (``<|x|>`` becomes ``"<|x|>"``).

    For a tokenizer without the special tokens, such as llguidance's byte tokenizer, which checks what
    strings a grammar writes without a model's vocabulary (:func:`actionspaces.testing.check_space`).

    Examples:
        >>> spelled_out_grammar("latent_code: <|latent_0|> | <|latent_1|>")
        'latent_code: "<|latent_0|>" | "<|latent_1|>"'
    """
    return _SPECIAL.sub(lambda m: lark_literal(m.group(0)), grammar)
