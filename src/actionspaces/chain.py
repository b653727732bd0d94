"""ChainSpace: a model's whole answer, one level per action space (CrossHA's output).

A response is read in one of three forms, tried in this order:

* **Tagged** (the reasoning dialect of OpenHA's RL models): levels inside ``<skill>…</skill>``,
  ``<grounding>…</grounding>``, ``<motion>…</motion>``, ``<latent>…</latent>``, ``<raw>…</raw>`` (or a
  reserved-token block), with the model's reasoning in free text before, between and after them::

      My task is to craft the item: oak_door. The Skill ACTION is <skill>Open the recipe book</skill>.
      The Grounding action is <grounding> move_to (372,390)</grounding>. The Raw ACTION is <raw></raw>.

  The prose is kept on :attr:`Chain.reasoning`; each tag's body is parsed strictly by its space; an empty
  tag is an absent level. A tag never closed, a closing tag with no opening, and a *prefixed* level
  (``Action: …``) written in the reasoning are errors: in a tagged response the tags are the levels.
* **Prefixed**: levels introduced by their prefixes (``Grounding:``, ``Action:``), split on newlines, on
  ``\\n, ``, and on a same-line ``, Action:``; the prefixes case-insensitive, also inside ``**bold**`` and
  with a full-width colon. Here every character belongs to a level: text before the first level is an
  error.
* **Bare**: no prefix and no tag: the body of one space (never free text).

The chat wrapper tokens around the response are stripped first. Every level's error is reported on its
own and never hides the others. The *executable* level is the lowest one present (the raw action when
there is one, as in Chain of Action).

Every input is answered in time linear in its length: a response longer than ``max_length`` (32,768
characters by default) is refused with a positioned error before any scan, and at most ``max_levels``
levels are parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, ClassVar, NamedTuple

import numpy as np
from pydantic import BaseModel

from . import registry
from .canonical import CanonicalAction
from .errors import CanonicalizeError, ParseError
from .registry import default_spaces
from .space import ActionSpace, as_generator, header_pattern
from .state import ViewState

__all__ = [
    "DEFAULT_MAX_LEVELS",
    "DEFAULT_MAX_RESPONSE_LENGTH",
    "Chain",
    "ChainSpace",
    "Level",
    "Reasoning",
    "default_chain",
    "default_spaces",
    "parse",
]

#: Longest response read, in characters; a longer one is refused before any scan.
DEFAULT_MAX_RESPONSE_LENGTH = 32_768
#: Most levels parsed in one response (OpenHA writes at most four, or an action chunk of a few).
DEFAULT_MAX_LEVELS = 64

_WRAPPER_HEAD = re.compile(r"\s*(?:<\|im_start\|>[ \t]*assistant[ \t]*\n?)?\s*")
_WRAPPER_TAIL = ("<|im_end|>", "<|endoftext|>")
_RESERVED_OPEN, _RESERVED_CLOSE = "<|reserved_special_token_178|>", "<|reserved_special_token_179|>"
_WHITESPACE = re.compile(r"\s*")
#: How far before a colon (and the blanks before it) a prefix word can start: ``**Grounding**``, and some.
_LONGEST_PREFIX = 32


def _unwrap(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` of the response inside its chat wrapper and surrounding whitespace."""
    head = _WRAPPER_HEAD.match(text, start, end)
    start = head.end() if head else start
    while True:  # each step removes at least one character from the end: linear
        while end > start and text[end - 1].isspace():
            end -= 1
        token = next((t for t in _WRAPPER_TAIL if text.endswith(t, start, end)), None)
        if token is None:
            return start, end
        end -= len(token)


def _stray_text(filler: re.Pattern[str], text: str, lo: int, hi: int) -> int | None:
    """Where ``text[lo:hi]`` holds more than ``filler`` (whitespace, separators), or ``None``."""
    stop = filler.match(text, lo, hi).end()  # type: ignore[union-attr]  # the patterns match the empty string
    return stop if stop < hi else None


class Reasoning(NamedTuple):
    """A stretch of a tagged response's free text (the model's reasoning), whitespace around it left out.

    Attributes:
        text: the prose itself.
        span: ``(start, end)`` offsets in the response.
    """

    text: str
    span: tuple[int, int]


class Level(NamedTuple):
    """One level of a chain: the text after a prefix (or inside a tag), and either its action or its error.

    Attributes:
        space: name of the action space (``"raw"``, ``"grounding"``, …).
        span: ``(start, end)`` character offsets of the level in the original response, header or tags included.
        body_span: ``(start, end)`` offsets of the body (after the prefix, inside the tags).
        action: the parsed action, or ``None`` when parsing failed.
        error: the :class:`ParseError` (positions in the original response), or ``None``.
        prefixed: whether the level was written after its prefix (``Action: …``); ``False`` for a level in its
            tag, and for a bare body recognised without one.
        tagged: ``True`` for a level written inside its tag (``<raw>…</raw>``).
    """

    space: str
    span: tuple[int, int]
    body_span: tuple[int, int]
    action: BaseModel | None
    error: ParseError | None
    prefixed: bool = True
    tagged: bool = False

    @property
    def ok(self) -> bool:
        """Whether the level parsed."""
        return self.error is None


@dataclass(frozen=True)
class Chain:
    """A parsed response: its levels in textual order, its reasoning, and what went wrong where.

    Examples:
        >>> chain = parse("Motion: turn left\\n, Action: move(-5, 0) and press()")
        >>> [level.space for level in chain.levels], chain.executable.space, chain.ok
        (['motion', 'raw'], 'raw', True)
        >>> tagged = parse("I see the log. <grounding>Mine oak log(512,300)</grounding> <raw></raw>")
        >>> tagged.executable.space, tagged.reasoning[0].text
        ('grounding', 'I see the log.')
    """

    text: str
    levels: tuple[Level, ...]
    #: Errors that belong to no level (stray text, an unclosed tag, no recognisable level at all).
    chain_errors: tuple[ParseError, ...] = ()
    execution_order: tuple[str, ...] = ()
    #: The free text of a tagged response, in textual order (always empty for the other forms).
    reasoning: tuple[Reasoning, ...] = ()
    #: The :class:`ChainSpace` that parsed the text (used by :meth:`to_dict` for the env action).
    parser: ChainSpace | None = field(default=None, compare=False, repr=False)

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
        order = self.execution_order or registry.execution_order(list(dict.fromkeys(self.spaces)))
        for name in order:
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

    def to_dict(self, state: ViewState | None = None) -> dict[str, Any]:
        """Plain data (JSON-ready): levels with their actions, reasoning, errors, and the env action.

        ``env_action`` is the executable level's MineRL env action in ``state`` (``None`` with
        ``execution_error`` saying why, when it cannot be computed, e.g. a skill without a controller).

        Examples:
            >>> d = parse("Action: move(19, 0) and press(w)").to_dict()
            >>> d["ok"], d["executable_space"], d["env_action"]["forward"], round(d["env_action"]["camera"][1], 3)
            (True, 'raw', 1, 2.85)
        """
        env_action: dict[str, Any] | None = None
        execution_error: str | None = None
        level = self.executable
        if level is not None and level.ok:
            try:
                env = (self.parser or default_chain()).canonicalize(self, state).to_env()
                env_action = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in env.items()}
            except (CanonicalizeError, ParseError) as err:
                execution_error = err.message if isinstance(err, ParseError) else str(err)
        return {
            "ok": self.ok,
            "levels": [
                {
                    "space": lv.space,
                    "span": list(lv.span),
                    "body_span": list(lv.body_span),
                    "tagged": lv.tagged,
                    "action": lv.action.model_dump(mode="json") if lv.action is not None else None,
                    "error": lv.error.message if lv.error is not None else None,
                }
                for lv in self.levels
            ],
            "reasoning": [{"text": r.text, "span": list(r.span)} for r in self.reasoning],
            "executable_space": level.space if level is not None else None,
            "env_action": env_action,
            "execution_error": execution_error,
            "errors": [
                {
                    "space": e.space,
                    "message": e.message,
                    "position": e.position,
                    "line": e.line,
                    "column": e.column,
                    "expected": list(e.expected),
                }
                for e in self.errors
            ],
        }

    def to_json(self, state: ViewState | None = None) -> str:
        """:meth:`to_dict` as one line of JSON."""
        return json.dumps(self.to_dict(state), ensure_ascii=False)

    def __iter__(self) -> Iterator[Level]:
        return iter(self.levels)

    def __len__(self) -> int:
        return len(self.levels)


#: A tagged level found by the scanner: (start, end, space, body start, body end).
_Block = tuple[int, int, str, int, int]


class ChainSpace(ActionSpace[Chain]):
    """A composite action space: the union of leaf spaces, whose actions are whole :class:`Chain` responses.

    Like gymnasium's ``Dict`` space it is itself a space: :meth:`parse` gives a :class:`Chain`,
    :meth:`sample` a random valid one, :meth:`render` its text, :meth:`contains` checks one.

    Args:
        spaces: the leaf spaces, at most one per name; every registered space
            (:mod:`actionspaces.registry`, the five CrossHA spaces) by default.
        execution_order: space names from the one executed first when present to the last; the
            registry's ranks by default.
        max_length: longest response read, in characters (refused beyond, with a positioned error).
        max_levels: most levels parsed in one response (an error marks where parsing stopped).

    Examples:
        >>> from actionspaces import GroundingSpace, RawSpace
        >>> cs = ChainSpace([RawSpace(), GroundingSpace()])
        >>> chain = cs.parse("Grounding: Explore\\nAction: move(0, 0) and press(w)")
        >>> sorted(cs.canonicalize(chain).buttons)
        ['forward']
    """

    name: ClassVar[str] = "chain"
    prefix: ClassVar[str] = ""
    grammar_name: ClassVar[str] = ""
    action_type: ClassVar[type[Any]] = Chain

    def __init__(
        self,
        spaces: Sequence[ActionSpace[Any]] | None = None,
        *,
        execution_order: Sequence[str] | None = None,
        max_length: int = DEFAULT_MAX_RESPONSE_LENGTH,
        max_levels: int = DEFAULT_MAX_LEVELS,
    ) -> None:
        super().__init__(max_length=max_length)
        if max_levels < 1:
            raise ValueError(f"max_levels must be ≥ 1, got {max_levels!r}")
        self.max_levels = max_levels
        spaces = list(spaces) if spaces is not None else registry.default_spaces()
        if not spaces:
            raise ValueError("ChainSpace needs at least one space")
        self.spaces: dict[str, ActionSpace[Any]] = {}
        for space in spaces:
            if not isinstance(space, ActionSpace) or isinstance(space, ChainSpace):
                raise TypeError(f"ChainSpace takes leaf ActionSpace instances, got {type(space).__name__}")
            if space.name in self.spaces:
                raise ValueError(f"two spaces named {space.name!r} in one ChainSpace")
            self.spaces[space.name] = space
        names = list(self.spaces)
        order = registry.execution_order(names) if execution_order is None else tuple(execution_order)
        # Spaces missing from execution_order are executed after the named ones; names of spaces this
        # chain does not have are ignored, so one order serves chains of any subset.
        self.execution_order = tuple(n for n in order if n in self.spaces) + tuple(n for n in names if n not in order)
        self._by_prefix = {s.prefix.rstrip(":").lower(): s for s in self.spaces.values()}
        head = header_pattern(tuple(s.prefix for s in self.spaces.values())).pattern
        # A header starts the text, a line (optionally after ", "), or follows ", " on the same line. No two
        # quantifiers over the same characters follow each other: a failed match backtracks in linear time.
        self._first_header = re.compile(rf"(?P<lead>)[ \t]*{head}", re.IGNORECASE)
        self._header = re.compile(rf"(?P<lead>\n(?:[ \t]*,)?|,)[ \t]*{head}", re.IGNORECASE)
        words = "|".join(re.escape(s.prefix.rstrip(":")) for s in self.spaces.values())
        self._word_before = re.compile(rf"(?i:{words})(?:\*\*)?$")
        self._by_tag = {self._tag_of(name): name for name in names}
        tag_words = "|".join(re.escape(t) for t in self._by_tag)
        # without a raw space the group stays, and never matches
        reserved = r"\|reserved_special_token_17[89]\|>" if "raw" in self.spaces else r"(?!)"
        # the literal "<" first and a case-insensitive group after it: the scan jumps from "<" to "<"
        self._tag = re.compile(rf"<(?:(?P<close>/?)(?P<tag>(?i:{tag_words}))>|(?P<rt>{reserved}))")
        self._text_order = registry.text_order(names)
        self._bare = {name: self._entry_field(name, "bare", True) for name in names}

    @staticmethod
    def _entry_field(name: str, field: str, unregistered: Any) -> Any:
        """A registered space's ``SpaceEntry`` field; ``unregistered`` for a space the registry does not know."""
        try:
            return getattr(registry.space_entry(name), field)
        except KeyError:
            return unregistered

    @classmethod
    def _tag_of(cls, name: str) -> str:
        return str(cls._entry_field(name, "tag", name))

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The prefixes this chain recognises, e.g. ``("Action:", "Grounding:", …)``."""
        return tuple(s.prefix for s in self.spaces.values())

    @property
    def tags(self) -> dict[str, str]:
        """The tag of each space's level in the reasoning dialect (``{"language": "skill", …}``)."""
        return {name: tag for tag, name in self._by_tag.items()}

    @property
    def grammar(self) -> str:
        """The leaf spaces' grammars, one after the other (levels are split by a scanner, not a grammar)."""
        return "\n".join(f"// ---- {name} ({space.prefix} …)\n{space.grammar}" for name, space in self.spaces.items())

    # ------------------------------------------------------------------------------------------ parse
    def parse(self, text: str) -> Chain:
        """Split ``text`` into levels and parse each; never raises for bad model output.

        Raises:
            ParseError: only when ``text`` is not a ``str``.
        """
        if not isinstance(text, str):
            raise ParseError(f"expected a str, got {type(text).__name__}", text=repr(text), position=0)
        return self.parse_body(text)

    def parse_body(self, text: str, start: int = 0, end: int | None = None) -> Chain:
        """Parse the response ``text[start:end]``; positions refer to the whole ``text``."""
        end = len(text) if end is None else end
        if end - start > self.max_length:
            error = ParseError(
                f"response is {end - start} characters long, more than max_length={self.max_length}",
                text=text,
                position=start + self.max_length,
                space="chain",
            )
            return self._chain(text, (), [error])
        start, end = _unwrap(text, start, end)
        tags = list(self._tag.finditer(text, start, end))
        if any(m.group("tag") for m in tags):
            return self._parse_tagged(text, start, end, tags)
        headers = list(islice(self._headers(text, start, end), self.max_levels + 1))
        if headers:
            return self._parse_prefixed(text, start, end, headers)
        if tags:  # reserved-token blocks only
            return self._parse_tagged(text, start, end, tags)
        return self._parse_bare(text, start, end)

    def _headers(self, text: str, start: int, end: int) -> Iterator[re.Match[str]]:
        first = self._first_header.match(text, start, end)
        if first is not None:
            yield first
        yield from self._header.finditer(text, first.end() if first else start, end)

    def _chain(
        self, text: str, levels: Sequence[Level], errors: Sequence[ParseError], reasoning: Sequence[Reasoning] = ()
    ) -> Chain:
        return Chain(text, tuple(levels), tuple(errors), self.execution_order, tuple(reasoning), self)

    def _too_many(self, text: str, position: int) -> ParseError:
        return ParseError(
            f"more than max_levels={self.max_levels} levels; the rest of the response is not parsed",
            text=text,
            position=position,
            space="chain",
        )

    def _parse_prefixed(self, text: str, start: int, end: int, headers: list[re.Match[str]]) -> Chain:
        chain_errors: list[ParseError] = []
        stray = _stray_text(_WHITESPACE, text, start, headers[0].start())
        if stray is not None:
            chain_errors.append(
                ParseError(
                    "text before the first level", text=text, position=stray, expected=self.prefixes, space="chain"
                )
            )
        if len(headers) > self.max_levels:
            extra = headers.pop()
            chain_errors.append(self._too_many(text, extra.start() + len(extra.group("lead"))))
            end = extra.start()
        levels: list[Level] = []
        for i, match in enumerate(headers):
            level_end = headers[i + 1].start() if i + 1 < len(headers) else end
            space = self._by_prefix[match.group("name").lower()]
            level_start = match.start() + len(match.group("lead"))
            while text[level_start] in " \t":
                level_start += 1
            levels.append(self._parse_level(space, text, (level_start, level_end), match.end(), level_end))
        return self._chain(text, levels, chain_errors)

    def _parse_level(
        self,
        space: ActionSpace[Any],
        text: str,
        span: tuple[int, int],
        body_start: int,
        body_end: int,
        *,
        tagged: bool = False,
    ) -> Level:
        """Parse ``text[body_start:body_end]`` with ``space``, whitespace around the body left out."""
        if not tagged:  # a tag's body comes stripped
            body_start, body_end = _strip(text, body_start, body_end)
        try:
            action, error = space.parse_body(text, body_start, body_end), None
        except ParseError as err:
            action, error = None, err
        return Level(space.name, span, (body_start, body_end), action, error, prefixed=not tagged, tagged=tagged)

    def _scan_tags(self, text: str, tags: list[re.Match[str]]) -> tuple[list[_Block], list[ParseError]]:
        """Pair opening and closing tags into blocks, in one pass (tags inside a block belong to its body).

        An opening tag's block ends at the next closing tag of its name; every step moves forward, so the
        scan is linear however the tags nest or repeat.
        """
        found = [_kind(m) for m in tags]  # (closing, tag, start, end)
        n = len(found)
        closes: dict[str, list[int]] | None = None  # built only for a tag not closed right after it opens
        next_close: dict[str, int] = {}
        blocks: list[_Block] = []  # (start, end, space, body start, body end)
        problems: dict[tuple[bool, str], list[int]] = {}
        i = 0
        while i < n:
            closing, tag, lo, body_lo = found[i]
            j = -1
            if not closing:
                after = found[i + 1] if i + 1 < n else None
                if after is not None and after[0] and after[1] == tag:  # the common case: closed right away
                    j = i + 1
                else:
                    if closes is None:
                        closes = {}
                        for index, entry in enumerate(found):
                            if entry[0]:
                                closes.setdefault(entry[1], []).append(index)
                    candidates = closes.get(tag, [])
                    k = next_close.get(tag, 0)
                    while k < len(candidates) and candidates[k] <= i:
                        k += 1
                    next_close[tag] = k
                    j = candidates[k] if k < len(candidates) else -1
            if j < 0:  # a stray closing tag, or an opening one never closed
                problems.setdefault((closing, tag), []).append(lo)
                i += 1
                continue
            body_hi, hi = found[j][2], found[j][3]
            if tag == "rt":  # a reserved-token block is parsed whole, its markers included
                blocks.append((lo, hi, "raw", lo, hi))
            else:
                blocks.append((lo, hi, self._by_tag[tag], body_lo, body_hi))
            i = j + 1
        errors = [self._tag_error(text, closing, tag, at) for (closing, tag), at in problems.items()]
        return blocks, errors

    @staticmethod
    def _tag_error(text: str, closing: bool, tag: str, positions: list[int]) -> ParseError:
        more = f" (and {len(positions) - 1} more)" if len(positions) > 1 else ""
        if closing:
            shown = _RESERVED_CLOSE if tag == "rt" else f"</{tag}>"
            return ParseError(f"{shown} closes no open tag{more}", text=text, position=positions[0], space="chain")
        shown, close = (_RESERVED_OPEN, _RESERVED_CLOSE) if tag == "rt" else (f"<{tag}>", f"</{tag}>")
        return ParseError(
            f"{shown} is never closed{more}", text=text, position=positions[0], expected=(close,), space="chain"
        )

    def _parse_tagged(self, text: str, start: int, end: int, tags: list[re.Match[str]]) -> Chain:
        """The tagged form: levels in tags, free text between them kept as reasoning."""
        blocks, chain_errors = self._scan_tags(text, tags)
        if len(blocks) > self.max_levels:
            chain_errors.append(self._too_many(text, blocks[self.max_levels][0]))
            del blocks[self.max_levels :]
        levels: list[Level] = []
        reasoning: list[Reasoning] = []
        cursor = start
        blocks.append((end, end, "", end, end))  # a sentinel: the gap after the last block
        for lo, hi, name, body_lo, body_hi in blocks:
            prose, at = _stripped(text, cursor, lo)
            if prose:
                reasoning.append(Reasoning(prose, (at, at + len(prose))))
            if not name:
                break
            body, at = _stripped(text, body_lo, body_hi)
            if body:  # an empty tag is an absent level
                levels.append(self._parse_level(self.spaces[name], text, (lo, hi), at, at + len(body), tagged=True))
            cursor = hi
        prefixed = next((m for r in reasoning for m in [self._header_in(text, *r.span)] if m), None)
        if prefixed is not None:
            space = self._by_prefix[prefixed.group("name").lower()]
            tag = self.tags[space.name]
            chain_errors.append(
                ParseError(
                    f"a prefixed level ({space.prefix}) in the reasoning of a tagged response: "
                    f"write it inside <{tag}>…</{tag}>",
                    text=text,
                    position=prefixed.start("name"),
                    expected=(f"<{tag}>",),
                    space="chain",
                )
            )
        if not levels and not chain_errors:
            chain_errors.append(
                ParseError(
                    "no action in the response (every tag is empty)",
                    text=text,
                    position=start,
                    expected=tuple(f"<{t}>" for t in self._by_tag),
                    space="chain",
                )
            )
        chain_errors.sort(key=lambda e: e.position)
        return self._chain(text, levels, chain_errors, reasoning)

    def _header_in(self, text: str, lo: int, hi: int) -> re.Match[str] | None:
        """The first level header inside ``text[lo:hi]``, or ``None``.

        A header ends in a colon right after a prefix word: prose whose colons follow other words (most
        of it: "craft the item: oak_door") is answered from a look at a few characters per colon.
        """
        for colon in (":", "："):
            at = text.find(colon, lo, hi)
            while at >= 0:
                word_end = at
                while word_end > lo and text[word_end - 1] in " \t":
                    word_end -= 1
                if self._word_before.search(text, max(lo, word_end - _LONGEST_PREFIX), word_end):
                    return self._first_header.match(text, lo, hi) or self._header.search(text, lo, hi)
                at = text.find(colon, at + 1, hi)
        return None

    def _parse_bare(self, text: str, start: int, end: int) -> Chain:
        """No prefix anywhere: accept the body of one space with a bare form (``SpaceEntry.bare``: never free text)."""
        failures: list[ParseError] = []
        candidates = [] if start == end else [n for n in self.execution_order if self._bare[n]]
        for name in candidates:
            space = self.spaces[name]
            try:
                action = space.parse_body(text, start, end)
            except ParseError as err:
                failures.append(err)
                continue
            level = Level(name, (start, end), (start, end), action, None, prefixed=False)
            return self._chain(text, (level,), ())
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
        return self._chain(text, (), (error,))

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

    def render_body(self, action: Chain) -> str:
        """The same as :meth:`render` (a chain has no prefix of its own)."""
        return self.render(action)

    def _space_of(self, action: BaseModel) -> ActionSpace[Any]:
        for space in self.spaces.values():
            if isinstance(action, space.action_type):
                return space
        raise TypeError(f"no space of this chain renders {type(action).__name__}")

    def canonicalize(self, action: Chain, state: ViewState | None = None) -> CanonicalAction:
        """The env action of the executable level on the next tick.

        Raises:
            CanonicalizeError: the chain has no level.
            ParseError: the executable level failed to parse (its own error).
        """
        level = action.executable
        if level is None:
            if action.chain_errors:
                raise action.chain_errors[0]
            raise CanonicalizeError("the chain has no executable level")
        if level.error is not None:
            raise level.error
        assert level.action is not None
        return self.spaces[level.space].canonicalize(level.action, state)

    def sample(self, rng: np.random.Generator | int | None = None) -> Chain:
        """A random valid chain: zero to two higher levels, then (usually) the level executed first, in text order."""
        g = as_generator(rng)
        low = self.execution_order[0]  # raw, in CrossHA's chain
        high = [n for n in self.spaces if n != low]
        chosen = [
            high[i] for i in sorted(g.choice(len(high), size=min(len(high), int(g.integers(0, 3))), replace=False))
        ]
        if not chosen or g.random() < 0.8:
            chosen.append(low)
        chosen.sort(key=self._text_order.index)
        return self.parse(self.render([self.spaces[n].sample(g) for n in chosen]))

    def contains(self, action: object) -> bool:
        """Whether ``action`` is a chain of this space's levels that all parsed (or a sequence of its actions)."""
        if isinstance(action, Chain):
            return action.ok and all(
                lv.space in self.spaces and self.spaces[lv.space].contains(lv.action) for lv in action.levels
            )
        if isinstance(action, Sequence) and not isinstance(action, str):
            return all(any(s.contains(a) for s in self.spaces.values()) for a in action)
        return False

    def __repr__(self) -> str:
        return f"ChainSpace([{', '.join(repr(s) for s in self.spaces.values())}])"


def _kind(match: re.Match[str]) -> tuple[bool, str, int, int]:
    """``(closing, tag, start, end)`` of a tag match; a reserved-token marker is the tag ``"rt"``."""
    close, tag, _ = match.groups()
    start, end = match.span()
    if tag is not None:
        return bool(close), tag if tag.islower() else tag.lower(), start, end
    return match.group() == _RESERVED_CLOSE, "rt", start, end


def _strip(text: str, lo: int, hi: int) -> tuple[int, int]:
    """``(lo, hi)`` narrowed past the whitespace at both ends of ``text[lo:hi]``."""
    stripped, at = _stripped(text, lo, hi)
    return at, at + len(stripped)


def _stripped(text: str, lo: int, hi: int) -> tuple[str, int]:
    """``text[lo:hi]`` without the whitespace at its ends, and where that starts."""
    part = text[lo:hi]
    stripped = part.strip()
    return stripped, (lo + part.index(stripped) if stripped else lo)


_default: dict[int, ChainSpace] = {}


def default_chain() -> ChainSpace:
    """The shared :class:`ChainSpace` of every registered space with default parameters (rebuilt on registration)."""
    version = registry.registry_version()
    chain = _default.get(version)
    if chain is None:
        _default.clear()
        chain = _default[version] = ChainSpace()
    return chain


def parse(text: str) -> Chain:
    """Parse a model's response with the default :class:`ChainSpace` of the registered spaces.

    Examples:
        >>> chain = parse("<|im_start|>assistant\\nMotion: turn right\\n, Action: move(17, 0) and press()<|im_end|>")
        >>> chain.executable.action
        RawAction(dx=17.0, dy=0.0, buttons=frozenset())
    """
    return default_chain().parse(text)
