"""The contract every action space keeps, as a checker you run on your own space (like gymnasium's ``check_env``).

:func:`check_space` samples actions and texts and checks each property below; the first violation
raises :class:`SpaceContractError`, which names the property and the example that broke it. The built-in
spaces' tests are this checker, one test per (space, property).

=================  ===================================================================================
property           what must hold
=================  ===================================================================================
``sample``         every ``sample()`` is an action the space ``contains``
``round_trip``     ``parse(render(a)) == a`` and ``parse(render_body(a)) == a``
``fast_path``      ``fast_parse`` accepts only what the grammar accepts, with the grammar's result
``errors``         any text (renderings with an edit) gives an action or a positioned ``ParseError``
``tool``           a tool call of ``a`` (``tool_arguments``) is ``a`` again (``from_tool_call``)
``generation``     every string the generation grammar (``generation_rules()``) writes parses (needs
                   ``llguidance``, the ``constrained`` extra; skipped without it or without rules)
=================  ===================================================================================

Examples:
    >>> from actionspaces import RawSpace
    >>> "round_trip" in check_space(RawSpace(), samples=20)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from lark.exceptions import UnexpectedInput

from .errors import ParseError
from .space import ActionSpace, SemanticError, _compiled

__all__ = ["PROPERTIES", "SpaceContractError", "check_space"]

#: The properties :func:`check_space` checks, in order.
PROPERTIES = ("sample", "round_trip", "fast_path", "errors", "tool", "generation")

# Edits spliced into renderings for ``fast_path`` and ``errors``: the pieces action texts are made of.
_EDITS = (
    "(", ")", ",", ", ", " and ", " ", "  ", "0", "-3", "999", "1000", "1e3", "nan", "x", "w", "left", ":", "\n",
    "<|point_start|>", "<|point_end|>", "<|object_ref_start|>", "<|latent_3|>", "no_op", "no-op", "０", "١", "",
)  # fmt: skip


class SpaceContractError(AssertionError):
    """An action space broke a property of the contract (:data:`PROPERTIES`).

    Attributes:
        property: the property's name.
        example: the action or text that broke it.
    """

    def __init__(self, space: ActionSpace[Any], prop: str, example: object, detail: str) -> None:
        self.property = prop
        self.example = example
        super().__init__(f"{type(space).__name__} ({space.name!r}) breaks {prop!r}: {detail}; example: {example!r}")


def check_space(
    space: ActionSpace[Any], *, samples: int = 200, seed: int = 0, properties: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Check ``space`` against the contract; return the properties checked (``generation`` may be skipped).

    Args:
        space: the action space (an instance).
        samples: how many actions are sampled (and texts tried) per property.
        seed: seeds every draw, so a failure repeats.
        properties: a subset of :data:`PROPERTIES` (all by default).

    Raises:
        SpaceContractError: a property does not hold; the message names it and the example.
        TypeError, ValueError: ``space`` is not an action space instance, or an unknown property.

    Examples:
        >>> from actionspaces import LanguageSpace
        >>> check_space(LanguageSpace(), samples=10, properties=["sample", "round_trip"])
        ('sample', 'round_trip')
    """
    if not isinstance(space, ActionSpace):
        raise TypeError(f"check_space takes an ActionSpace instance, got {type(space).__name__}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be an int >= 1, got {samples!r}")
    chosen = tuple(PROPERTIES if properties is None else properties)
    unknown = [p for p in chosen if p not in PROPERTIES]
    if unknown:
        raise ValueError(f"unknown properties {unknown}; the contract's are {', '.join(PROPERTIES)}")
    checked = []
    for prop in chosen:
        rng = np.random.default_rng([seed, PROPERTIES.index(prop)])
        if _CHECKS[prop](space, rng, samples):
            checked.append(prop)
    return tuple(checked)


def _draw(space: ActionSpace[Any], rng: np.random.Generator) -> Any:
    try:
        return space.sample(rng)
    except Exception as err:
        raise SpaceContractError(space, "sample", None, f"sample() raised {type(err).__name__}: {err}") from err


def _check_sample(space: ActionSpace[Any], rng: np.random.Generator, n: int) -> bool:
    for _ in range(n):
        action = _draw(space, rng)
        if not space.contains(action):
            raise SpaceContractError(space, "sample", action, "contains(sample()) is false")
    return True


def _parsed(space: ActionSpace[Any], prop: str, text: str) -> Any:
    try:
        return space.parse(text)
    except Exception as err:
        raise SpaceContractError(space, prop, text, f"parse raised {type(err).__name__}: {err}") from err


def _check_round_trip(space: ActionSpace[Any], rng: np.random.Generator, n: int) -> bool:
    for _ in range(n):
        action = _draw(space, rng)
        for text in (space.render(action), space.render_body(action)):
            again = _parsed(space, "round_trip", text)
            if again != action:
                raise SpaceContractError(space, "round_trip", text, f"parse(render(a)) gave {again!r}, not {action!r}")
    return True


def _mutations(space: ActionSpace[Any], rng: np.random.Generator, n: int) -> list[str]:
    """Renderings of sampled actions, each with one edit spliced in (and the unedited ones)."""
    texts = []
    for _ in range(n):
        body = space.render_body(_draw(space, rng))
        at = int(rng.integers(len(body) + 1))
        edit = _EDITS[int(rng.integers(len(_EDITS)))]
        texts += [body, body[:at] + edit + body[at + int(rng.integers(0, 3)) :]]
    return texts


def _grammar_result(space: ActionSpace[Any], body: str) -> Any:
    try:
        return space.build(_compiled(type(space)).parse(body), body)
    except (UnexpectedInput, SemanticError, ValueError):
        return None


def _check_fast_path(space: ActionSpace[Any], rng: np.random.Generator, n: int) -> bool:
    for body in _mutations(space, rng, n):
        fast = space.fast_parse(body)
        if fast is not None and fast != (slow := _grammar_result(space, body)):
            raise SpaceContractError(space, "fast_path", body, f"fast_parse gave {fast!r}, the grammar {slow!r}")
    return True


def _check_errors(space: ActionSpace[Any], rng: np.random.Generator, n: int) -> bool:
    for text in _mutations(space, rng, n):
        try:
            action = space.parse(text)
        except ParseError as err:
            if not 0 <= err.position <= len(text):
                raise SpaceContractError(space, "errors", text, f"ParseError at {err.position}, outside it") from err
            continue
        except Exception as err:
            raise SpaceContractError(space, "errors", text, f"parse raised {type(err).__name__}: {err}") from err
        if not space.contains(action):
            raise SpaceContractError(space, "errors", text, f"parsed to {action!r}, which the space does not contain")
    return True


def _check_tool(space: ActionSpace[Any], rng: np.random.Generator, n: int) -> bool:
    for _ in range(n):
        action = _draw(space, rng)
        try:
            arguments = space.tool_arguments(action)
            again = space.from_tool_call(arguments)
        except Exception as err:
            raise SpaceContractError(space, "tool", action, f"{type(err).__name__}: {err}") from err
        if again != action:
            raise SpaceContractError(space, "tool", arguments, f"from_tool_call gave {again!r}, not {action!r}")
    return True


def _check_generation(space: ActionSpace[Any], rng: np.random.Generator, n: int) -> bool:
    """Random walks through the generation grammar, byte by byte; each finished string must parse."""
    if space.generation_rules() is None:
        return False
    try:
        import llguidance
    except ImportError:
        return False
    from .decoding.grammar import generation_grammar, spelled_out_grammar

    try:
        grammar = generation_grammar(space)
    except (TypeError, ValueError) as err:
        raise SpaceContractError(space, "generation", space.generation_rules(), str(err)) from err
    tokenizer = llguidance.LLTokenizer("byte")  # no special tokens: the grammar matches them spelled out
    matcher = llguidance.LLMatcher(tokenizer, llguidance.grammar_from("lark", spelled_out_grammar(grammar)))
    if matcher.is_error():
        raise SpaceContractError(space, "generation", grammar, f"the grammar does not compile: {matcher.get_error()}")
    eos = tokenizer.eos_token
    for _ in range(n):
        matcher.reset()
        written = bytearray()
        while len(written) < 4 * space.max_length:
            allowed = np.flatnonzero(np.frombuffer(matcher.compute_logit_bias(), dtype=np.uint8))
            if eos in allowed and (len(allowed) == 1 or rng.random() < 0.25):
                break
            token = int(rng.choice(allowed[allowed != eos]))
            matcher.consume_token(token)
            written.append(token)
        else:
            continue  # a walk that never ended proves nothing either way
        text = written.decode("utf-8", errors="replace")
        action = _parsed(space, "generation", text)
        if not space.contains(action):
            raise SpaceContractError(space, "generation", text, f"parsed to {action!r}, outside the space")
    return True


_CHECKS: dict[str, Callable[[ActionSpace[Any], np.random.Generator, int], bool]] = {
    "sample": _check_sample,
    "round_trip": _check_round_trip,
    "fast_path": _check_fast_path,
    "errors": _check_errors,
    "tool": _check_tool,
    "generation": _check_generation,
}
