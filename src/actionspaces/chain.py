"""ChainSpace: a model's whole answer, one level per action space (CrossHA's output).

A response such as::

    <|im_start|>assistant
    Grounding: Mine <|object_ref_start|>oak log<|object_ref_end|><|point_start|>(512,300)<|point_end|>
    , Action: move(19, 0) and press()<|im_end|>

is split into levels by their prefixes (on newlines, on ``\\n, ``, and on a same-line ``, Action:``; the
prefixes case-insensitive, also inside ``**bold**`` and with a full-width colon), after stripping the chat
wrapper tokens. Every level is parsed by its space; each level's error is reported on its own, and never
hides the others. The *executable* level is the lowest one present (the raw ``Action:`` when there is
one, as in Chain of Action).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from pydantic import BaseModel

from .canonical import CanonicalAction
from .errors import CanonicalizeError, ParseError
from .space import ActionSpace, as_generator, header_pattern
from .spaces import GroundingSpace, LanguageSpace, LatentSpace, MotionSpace, RawSpace
from .state import ViewState

__all__ = ["DEFAULT_EXECUTION_ORDER", "Chain", "ChainSpace", "Level", "default_chain", "parse"]

#: Which level is executed when several are present: the lowest level of abstraction first.
DEFAULT_EXECUTION_ORDER: tuple[str, ...] = ("raw", "latent", "motion", "grounding", "language")

_WRAPPER_HEAD = re.compile(r"\s*(?:<\|im_start\|>[ \t]*assistant[ \t]*\n?)?\s*")
_WRAPPER_TAIL = re.compile(r"(?:\s*(?:<\|im_end\|>|<\|endoftext\|>))+\s*$")
# Legacy level syntax of OpenHA's MTRL prompts: <skill>…</skill>, <grounding>…</grounding>, <motion>…</motion>,
# <raw>…</raw>, and a bare reserved-token raw block beside them.
_XML_LEVEL = re.compile(
    r"<(?P<tag>skill|grounding|motion|latent|raw)>(?P<body>.*?)</(?P=tag)>", re.IGNORECASE | re.DOTALL
)
_RESERVED_BLOCK = re.compile(r"<\|reserved_special_token_178\|>.*?<\|reserved_special_token_179\|>", re.DOTALL)
_XML_SPACE = {
    "skill": "language",
    "grounding": "grounding",
    "motion": "motion",
    "latent": "latent",
    "raw": "raw",
}
_BETWEEN_LEVELS = re.compile(r"[\s,]*")
_WHITESPACE = re.compile(r"\s*")


def _stray_text(filler: re.Pattern[str], text: str, lo: int, hi: int) -> int | None:
    """Where ``text[lo:hi]`` holds more than ``filler`` (whitespace, separators), or ``None``."""
    stop = filler.match(text, lo, hi).end()  # type: ignore[union-attr]  # the patterns match the empty string
    return stop if stop < hi else None


@dataclass(frozen=True)
class Level:
    """One level of a chain: the text after a prefix, and either its action or its error.

    Attributes:
        space: name of the action space (``"raw"``, ``"grounding"``, …).
        span: ``(start, end)`` character offsets of the level in the original response, header included.
        body_span: ``(start, end)`` offsets of the text after the prefix.
        action: the parsed action, or ``None`` when parsing failed.
        error: the :class:`ParseError` (positions in the original response), or ``None``.
        prefixed: ``False`` when the response had no prefix and the level was recognised from its body.
    """

    space: str
    span: tuple[int, int]
    body_span: tuple[int, int]
    action: BaseModel | None
    error: ParseError | None
    prefixed: bool = True

    @property
    def ok(self) -> bool:
        """Whether the level parsed."""
        return self.error is None


@dataclass(frozen=True)
class Chain:
    """A parsed response: its levels in textual order, and what went wrong where.

    Examples:
        >>> chain = parse("Motion: turn left\\n, Action: move(-5, 0) and press()")
        >>> [level.space for level in chain.levels], chain.executable.space, chain.ok
        (['motion', 'raw'], 'raw', True)
    """

    text: str
    levels: tuple[Level, ...]
    #: Errors that belong to no level (stray text, no recognisable level at all).
    chain_errors: tuple[ParseError, ...] = ()
    execution_order: tuple[str, ...] = field(default=DEFAULT_EXECUTION_ORDER)

    @property
    def errors(self) -> tuple[ParseError, ...]:
        """Every error: the chain's own, then each level's, in textual order."""
        return self.chain_errors + tuple(lv.error for lv in self.levels if lv.error is not None)

    @property
    def ok(self) -> bool:
        """True when there is at least one level and nothing failed."""
        return bool(self.levels) and not self.errors

    @property
    def spaces(self) -> tuple[str, ...]:
        """Names of the spaces present, in textual order (repeats kept)."""
        return tuple(lv.space for lv in self.levels)

    @property
    def executable(self) -> Level | None:
        """The level that is executed: the first level of the first space in ``execution_order``.

        It is returned even when it failed to parse (check ``.ok``): a broken raw action never silently
        falls back to a higher level.
        """
        for name in self.execution_order:
            for level in self.levels:
                if level.space == name:
                    return level
        return None

    def level(self, space: str) -> Level | None:
        """The first level of ``space``, or ``None``."""
        return next((lv for lv in self.levels if lv.space == space), None)

    def levels_of(self, space: str) -> tuple[Level, ...]:
        """All levels of ``space`` (several ``Action:`` lines form an action chunk)."""
        return tuple(lv for lv in self.levels if lv.space == space)

    def __iter__(self) -> Iterator[Level]:
        return iter(self.levels)

    def __len__(self) -> int:
        return len(self.levels)


class ChainSpace:
    """A union of action spaces: parses whole responses into :class:`Chain` objects.

    Args:
        spaces: the leaf spaces, at most one per name; the five CrossHA spaces by default.
        execution_order: space names from the one executed first when present to the last.

    Examples:
        >>> cs = ChainSpace([RawSpace(), GroundingSpace()])
        >>> chain = cs.parse("Grounding: Explore\\nAction: move(0, 0) and press(w)")
        >>> sorted(cs.canonicalize(chain).buttons)
        ['forward']
    """

    def __init__(
        self,
        spaces: Sequence[ActionSpace[Any]] | None = None,
        *,
        execution_order: Sequence[str] = DEFAULT_EXECUTION_ORDER,
    ) -> None:
        spaces = list(spaces) if spaces is not None else default_spaces()
        if not spaces:
            raise ValueError("ChainSpace needs at least one space")
        self.spaces: dict[str, ActionSpace[Any]] = {}
        for space in spaces:
            if not isinstance(space, ActionSpace):
                raise TypeError(f"ChainSpace takes ActionSpace instances, got {type(space).__name__}")
            if space.name in self.spaces:
                raise ValueError(f"two spaces named {space.name!r} in one ChainSpace")
            self.spaces[space.name] = space
        # Spaces missing from execution_order are executed after the named ones; names of spaces this
        # chain does not have are ignored, so one order serves chains of any subset.
        self.execution_order = tuple(n for n in execution_order if n in self.spaces) + tuple(
            n for n in self.spaces if n not in execution_order
        )
        self._by_prefix = {s.prefix.rstrip(":").lower(): s for s in self.spaces.values()}
        head = header_pattern(tuple(s.prefix for s in self.spaces.values())).pattern
        # A header starts the text, a line (optionally after ", "), or follows ", " on the same line.
        self._first_header = re.compile(rf"(?P<lead>)[ \t]*{head}", re.IGNORECASE)
        self._header = re.compile(rf"(?P<lead>\n[ \t]*,?|,)[ \t]*{head}", re.IGNORECASE)

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The prefixes this chain recognises, e.g. ``("Action:", "Grounding:", …)``."""
        return tuple(s.prefix for s in self.spaces.values())

    # ------------------------------------------------------------------------------------------ parse
    def parse(self, text: str) -> Chain:
        """Split ``text`` into levels and parse each; never raises for bad model output.

        Raises:
            ParseError: only when ``text`` is not a ``str``.
        """
        if not isinstance(text, str):
            raise ParseError(f"expected a str, got {type(text).__name__}", text=repr(text), position=0)
        head = _WRAPPER_HEAD.match(text)
        start = head.end() if head else 0
        tail = _WRAPPER_TAIL.search(text, start)
        end = tail.start() if tail else len(text)
        first = self._first_header.match(text, start, end)
        headers = [first] if first else []
        headers += self._header.finditer(text, first.end() if first else start, end)
        if not headers:
            tagged = self._parse_tagged(text, start, end)
            return tagged if tagged is not None else self._parse_bare(text, start, end)
        chain_errors: list[ParseError] = []
        stray = _stray_text(_WHITESPACE, text, start, headers[0].start())
        if stray is not None:
            chain_errors.append(
                ParseError(
                    "text before the first level", text=text, position=stray, expected=self.prefixes, space="chain"
                )
            )
        levels: list[Level] = []
        for i, match in enumerate(headers):
            level_end = headers[i + 1].start() if i + 1 < len(headers) else end
            space = self._by_prefix[match.group("name").lower()]
            level_start = match.start() + len(match.group("lead"))
            levels.append(self._parse_level(space, text, (level_start, level_end), match.end(), level_end))
        return Chain(text, tuple(levels), tuple(chain_errors), self.execution_order)

    def _parse_level(
        self, space: ActionSpace[Any], text: str, span: tuple[int, int], body_start: int, body_end: int
    ) -> Level:
        """Parse ``text[body_start:body_end]`` with ``space``, whitespace around the body left out."""
        inner = text[body_start:body_end]
        body_start += len(inner) - len(inner.lstrip())
        body_end = body_start + len(inner.strip())
        try:
            action, error = space.parse_body(text, body_start, body_end), None
        except ParseError as err:
            action, error = None, err
        return Level(space.name, span, (body_start, body_end), action, error)

    def _parse_tagged(self, text: str, start: int, end: int) -> Chain | None:
        """The legacy XML-tag form, or ``None`` when the response has no level tag."""
        tags = [m for m in _XML_LEVEL.finditer(text, start, end) if _XML_SPACE[m.group("tag").lower()] in self.spaces]
        if not tags:
            return None
        blocks: list[tuple[int, int, str, int, int]] = [
            (m.start(), m.end(), _XML_SPACE[m.group("tag").lower()], *m.span("body")) for m in tags
        ]
        if "raw" in self.spaces:
            blocks += [
                (m.start(), m.end(), "raw", m.start(), m.end())
                for m in _RESERVED_BLOCK.finditer(text, start, end)
                if not any(b[0] <= m.start() < b[1] for b in blocks)
            ]
        blocks.sort()
        levels: list[Level] = []
        chain_errors: list[ParseError] = []
        cursor = start
        for lo, hi, name, inner_lo, inner_hi in blocks:
            stray = _stray_text(_BETWEEN_LEVELS, text, cursor, lo)
            if stray is not None:
                chain_errors.append(
                    ParseError("text between levels", text=text, position=stray, expected=self.prefixes, space="chain")
                )
            levels.append(self._parse_level(self.spaces[name], text, (lo, hi), inner_lo, inner_hi))
            cursor = hi
        stray = _stray_text(_BETWEEN_LEVELS, text, cursor, end)
        if stray is not None:
            chain_errors.append(ParseError("text after the last level", text=text, position=stray, space="chain"))
        return Chain(text, tuple(levels), tuple(chain_errors), self.execution_order)

    def _parse_bare(self, text: str, start: int, end: int) -> Chain:
        """No prefix anywhere: accept the body of one space (raw, latent, motion, grounding — never free text)."""
        end = max(start, len(text[:end].rstrip()))
        failures: list[ParseError] = []
        candidates = (
            [] if start == end else [n for n in self.execution_order if not isinstance(self.spaces[n], LanguageSpace)]
        )
        for name in candidates:
            space = self.spaces[name]
            try:
                action = space.parse_body(text, start, end)
            except ParseError as err:
                failures.append(err)
                continue
            level = Level(name, (start, end), (start, end), action, None, prefixed=False)
            return Chain(text, (level,), (), self.execution_order)
        if failures:
            # The space that read furthest is the best guess at what was meant.
            best = max(failures, key=lambda e: e.position)
            message = (
                f"no level prefix ({', '.join(self.prefixes)}); read as a bare {best.space} action: {best.message}"
            )
            error = ParseError(message, text=text, position=best.position, expected=best.expected, space=best.space)
        else:
            error = ParseError(
                "no action in the response", text=text, position=start, expected=self.prefixes, space="chain"
            )
        return Chain(text, (), (error,), self.execution_order)

    # ------------------------------------------------------------------------------------------ the rest
    def render(self, chain: Chain | Sequence[BaseModel]) -> str:
        """One line per level, ``"Prefix: body"``, joined by newlines.

        Accepts a :class:`Chain` (whose levels must all have parsed) or a sequence of actions, each
        rendered by the space whose action type it is.
        """
        actions: list[BaseModel] = []
        if isinstance(chain, Chain):
            for level in chain.levels:
                if level.action is None:
                    raise ValueError(f"cannot render a chain whose {level.space} level failed to parse")
                actions.append(level.action)
        else:
            actions = list(chain)
        return "\n".join(self._space_of(a).render(a) for a in actions)

    def _space_of(self, action: BaseModel) -> ActionSpace[Any]:
        for space in self.spaces.values():
            if isinstance(action, space.action_type):
                return space
        raise TypeError(f"no space of this chain renders {type(action).__name__}")

    def canonicalize(self, chain: Chain, state: ViewState | None = None) -> CanonicalAction:
        """The env action of the executable level on the next tick.

        Raises:
            CanonicalizeError: the chain has no level.
            ParseError: the executable level failed to parse (its own error).
        """
        level = chain.executable
        if level is None:
            if chain.chain_errors:
                raise chain.chain_errors[0]
            raise CanonicalizeError("the chain has no executable level")
        if level.error is not None:
            raise level.error
        assert level.action is not None
        return self.spaces[level.space].canonicalize(level.action, state)

    def sample(self, rng: np.random.Generator | int | None = None) -> list[BaseModel]:
        """Random actions for a chain: zero to two high-level levels, then (usually) a raw action."""
        g = as_generator(rng)
        high = [n for n in self.spaces if n != "raw"]
        chosen = [
            high[i] for i in sorted(g.choice(len(high), size=min(len(high), int(g.integers(0, 3))), replace=False))
        ]
        if "raw" in self.spaces and (not chosen or g.random() < 0.8):
            chosen.append("raw")
        order = {"language": 0, "grounding": 1, "motion": 2, "latent": 3, "raw": 4}
        chosen.sort(key=lambda n: order.get(n, 5))
        return [self.spaces[n].sample(g) for n in chosen]

    def contains(self, actions: Sequence[BaseModel]) -> bool:
        """Whether every action belongs to one of this chain's spaces."""
        return all(any(s.contains(a) for s in self.spaces.values()) for a in actions)

    def __repr__(self) -> str:
        return f"ChainSpace([{', '.join(repr(s) for s in self.spaces.values())}])"


def default_spaces() -> list[ActionSpace[Any]]:
    """Fresh instances of the five CrossHA spaces with their default parameters."""
    return [RawSpace(), GroundingSpace(), MotionSpace(), LanguageSpace(), LatentSpace()]


@cache
def default_chain() -> ChainSpace:
    """The shared :class:`ChainSpace` of the five CrossHA spaces with default parameters (built once)."""
    return ChainSpace()


def parse(text: str) -> Chain:
    """Parse a model's response with the default :class:`ChainSpace` of the five CrossHA spaces.

    Examples:
        >>> chain = parse("<|im_start|>assistant\\nMotion: turn right\\n, Action: move(17, 0) and press()<|im_end|>")
        >>> chain.executable.action
        RawAction(dx=17.0, dy=0.0, buttons=frozenset())
    """
    return default_chain().parse(text)
